import { createTRPCClient, type TRPCClient, type TRPCLink } from '@trpc/client';
import type { AppRouter } from '../main/api/AppRouter';
import type { DesktopRouter } from '../main/ipc/desktopRouter';
import { domIpcPort } from './domIpcPort';
import { IpcConnection, ipcLink } from './ipcLink';

export const API_PORT_CHANNEL = 'warren:api-port';

/**
 * Waits for the port the preload posts (or an in-page bridge standing in for it) and returns the
 * page's two clients over it, the daemon's API and the desktop's own, and the daemon link for
 * hosts that build their own client around it (packages/ui's createApiClient).
 */
export function connectRenderer(
  target: Pick<Window, 'addEventListener' | 'removeEventListener'> = window,
): Promise<{
  daemon: TRPCClient<AppRouter>;
  desktop: TRPCClient<DesktopRouter>;
  daemonLink: TRPCLink<AppRouter>;
}> {
  return new Promise((resolve) => {
    const onMessage = (event: MessageEvent) => {
      const [port] = event.ports;
      if (event.data !== API_PORT_CHANNEL || !port) return;
      target.removeEventListener('message', onMessage);
      const connection = new IpcConnection(domIpcPort(port));
      const daemonLink = ipcLink<AppRouter>(connection, 'daemon');
      resolve({
        daemonLink,
        daemon: createTRPCClient<AppRouter>({ links: [daemonLink] }),
        desktop: createTRPCClient<DesktopRouter>({ links: [ipcLink(connection, 'desktop')] }),
      });
    };
    target.addEventListener('message', onMessage);
  });
}
