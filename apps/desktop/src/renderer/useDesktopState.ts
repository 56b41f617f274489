import { useEffect, useState } from 'react';
import type { DesktopClient, TunnelView } from './desktopApi';

/**
 * The local tunnels, fresh on every change the main process announces (its tray stream fires on
 * connection, workspace and tunnel changes), so the window shows what the tray shows.
 */
export function useTunnels(desktop: DesktopClient): { tunnels: TunnelView[]; tooltip: string } {
  const [state, setState] = useState<{ tunnels: TunnelView[]; tooltip: string }>({
    tunnels: [],
    tooltip: '',
  });
  useEffect(() => {
    let live = true;
    const subscription = desktop.tray.subscribe(undefined, {
      onData: (tray) => {
        desktop.tunnels.status
          .query()
          .then((tunnels) => live && setState({ tunnels, tooltip: tray.tooltip }))
          // Signed out between the two calls: the shell is about to show sign-in anyway.
          .catch(() => live && setState({ tunnels: [], tooltip: tray.tooltip }));
      },
    });
    return () => {
      live = false;
      subscription.unsubscribe();
    };
  }, [desktop]);
  return state;
}
