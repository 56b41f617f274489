import { create } from 'zustand';

/**
 * History routing in the browser (the daemon serves index.html for app paths); hash routing
 * where there is no server to fall back to, such as the desktop's file:// renderer.
 */
export type RoutingMode = 'history' | 'hash';

interface RouterStore {
  mode: RoutingMode;
  path: string;
  navigate(path: string, options?: { replace?: boolean }): void;
  /** Re-reads the location (on popstate/hashchange). */
  sync(): void;
}

function currentPath(mode: RoutingMode): string {
  if (typeof location === 'undefined') return '/';
  if (mode === 'hash') return location.hash.replace(/^#/, '') || '/';
  return `${location.pathname}${location.search}`;
}

export const useRouter = create<RouterStore>((set, get) => ({
  mode: 'history',
  path: currentPath('history'),
  navigate(path, options) {
    const { mode } = get();
    const url = mode === 'hash' ? `#${path}` : path;
    if (options?.replace) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
    set({ path });
    // A new screen starts at the top; its Page moves focus to the heading once it renders.
    window.scrollTo(0, 0);
  },
  sync() {
    set({ path: currentPath(get().mode) });
  },
}));

export function startRouter(mode: RoutingMode): () => void {
  useRouter.setState({ mode, path: currentPath(mode) });
  const sync = () => useRouter.getState().sync();
  const event = mode === 'hash' ? 'hashchange' : 'popstate';
  window.addEventListener(event, sync);
  return () => window.removeEventListener(event, sync);
}

export function navigate(path: string, options?: { replace?: boolean }): void {
  useRouter.getState().navigate(path, options);
}

/** `/workspaces/:owner/:name` against a path: the named parts, or undefined when it does not match. */
export function matchRoute(pattern: string, path: string): Record<string, string> | undefined {
  const [pathname = ''] = path.split('?');
  const want = pattern.split('/').filter(Boolean);
  const got = pathname.split('/').filter(Boolean);
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    const value = got[i] ?? '';
    if (!part.startsWith(':')) {
      if (part !== value) return undefined;
      continue;
    }
    // A typed or pasted address such as /chat/%E0 is not valid percent-encoding: it matches
    // nothing (the "Nothing here" page) rather than throwing URIError out of rendering.
    try {
      params[part.slice(1)] = decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  return params;
}

export function queryParam(path: string, name: string): string | undefined {
  const query = path.split('?')[1];
  return query ? (new URLSearchParams(query).get(name) ?? undefined) : undefined;
}
