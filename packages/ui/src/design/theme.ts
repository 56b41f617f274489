import { create } from 'zustand';

export type ThemeChoice = 'system' | 'light' | 'dark';
const STORAGE_KEY = 'warren.theme';

function stored(): ThemeChoice {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    return 'system';
  }
}

const darkQuery = () => globalThis.matchMedia?.('(prefers-color-scheme: dark)');

/** Pins light or dark on <html>; `system` follows prefers-color-scheme, now and when it changes. */
function apply(choice: ThemeChoice): void {
  if (typeof document === 'undefined') return;
  const resolved = choice === 'system' ? (darkQuery()?.matches ? 'dark' : 'light') : choice;
  document.documentElement.dataset.theme = resolved;
}

export const useTheme = create<{ choice: ThemeChoice; set(choice: ThemeChoice): void }>((set) => ({
  choice: 'system',
  set(choice) {
    try {
      if (choice === 'system') localStorage.removeItem(STORAGE_KEY);
      else localStorage.setItem(STORAGE_KEY, choice);
    } catch {}
    apply(choice);
    set({ choice });
  },
}));

/** Applies the stored choice; returns a function that stops following the system's setting. */
export function loadTheme(): () => void {
  const choice = stored();
  apply(choice);
  useTheme.setState({ choice });
  const query = darkQuery();
  const follow = () => {
    if (useTheme.getState().choice === 'system') apply('system');
  };
  query?.addEventListener('change', follow);
  return () => query?.removeEventListener('change', follow);
}
