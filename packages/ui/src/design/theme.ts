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

/** `system` leaves the CSS to follow prefers-color-scheme; light or dark pins it on <html>. */
function apply(choice: ThemeChoice): void {
  if (typeof document === 'undefined') return;
  if (choice === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
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

export function loadTheme(): void {
  const choice = stored();
  apply(choice);
  useTheme.setState({ choice });
}
