import { create } from 'zustand';

interface ToastItem {
  id: number;
  message: string;
  tone: 'info' | 'error';
}

interface ToastStore {
  toasts: ToastItem[];
  show(message: string, tone?: ToastItem['tone']): void;
  dismiss(id: number): void;
}

let nextId = 1;

export const useToasts = create<ToastStore>((set, get) => ({
  toasts: [],
  show(message, tone = 'info') {
    const id = nextId++;
    set({ toasts: [...get().toasts.slice(-3), { id, message, tone }] });
    setTimeout(() => get().dismiss(id), tone === 'error' ? 10_000 : 5000);
  },
  dismiss(id) {
    set({ toasts: get().toasts.filter((t) => t.id !== id) });
  },
}));

export function toast(message: string, tone?: ToastItem['tone']): void {
  useToasts.getState().show(message, tone);
}

/** One live region for every toast, so screen readers announce them without taking focus. */
export function Toaster() {
  const { toasts, dismiss } = useToasts();
  return (
    <section className="toasts" aria-label="Notifications">
      <div role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.tone}`}>
            <span>{t.message}</span>
            <button
              type="button"
              className="toast-close"
              aria-label="Dismiss notification"
              onClick={() => dismiss(t.id)}
            >
              ×
            </button>
          </div>
        ))}
      </div>
    </section>
  );
}
