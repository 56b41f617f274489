import {
  createTRPCClient,
  createTRPCUntypedClient,
  httpLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
  type TRPCLink,
  type TRPCUntypedClient,
} from '@trpc/client';
import type { inferRouterOutputs } from '@trpc/server';
import type { Secret } from '@warren/core';
import { EventSource } from 'eventsource';
import type { AppRouter } from './AppRouter';

export type DaemonClient = TRPCClient<AppRouter>;
export type DaemonOutputs = inferRouterOutputs<AppRouter>;
export type WorkspaceView = DaemonOutputs['workspaces']['list'][number];

export const API_PATH = '/api/trpc';

/** Where a daemon is and the token that signs in to it; the token is revealed only in a header. */
export interface DaemonTarget {
  url: string;
  token: Secret;
}

/**
 * A typed client for the main process: queries and mutations over HTTP, subscriptions over SSE
 * (the eventsource package, so the bearer header can ride along, which a browser EventSource cannot).
 */
export function createDaemonClient(target: DaemonTarget): DaemonClient {
  return createTRPCClient<AppRouter>({ links: daemonLinks(target) });
}

/** The same links as an untyped client, for the renderer's IPC bridge, which names procedures by path. */
export function createUntypedDaemonClient(target: DaemonTarget): TRPCUntypedClient<AppRouter> {
  return createTRPCUntypedClient<AppRouter>({ links: daemonLinks(target) });
}

function daemonLinks(target: DaemonTarget): TRPCLink<AppRouter>[] {
  const url = `${target.url.replace(/\/+$/, '')}${API_PATH}`;
  const headers = () => ({ authorization: `Bearer ${target.token.reveal()}` });
  return [
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: httpSubscriptionLink({
        url,
        EventSource,
        eventSourceOptions: () => ({
          fetch: (input: string | URL | Request, init?: RequestInit) =>
            fetch(input, {
              ...init,
              headers: { ...(init?.headers as Record<string, string>), ...headers() },
            }),
        }),
      }),
      false: httpLink({ url, headers }),
    }),
  ];
}
