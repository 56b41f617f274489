import {
  createTRPCClient,
  httpLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
  type TRPCLink,
} from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from './AppRouter';

export type ApiClient = TRPCClient<AppRouter>;
export type ApiLink = TRPCLink<AppRouter>;
export type Outputs = inferRouterOutputs<AppRouter>;
export type Inputs = inferRouterInputs<AppRouter>;

export const API_PATH = '/api/trpc';

/** The screens only ever talk through these links, so the desktop can hand in an IPC link instead. */
export function createApiClient(links: ApiLink[]): ApiClient {
  return createTRPCClient<AppRouter>({ links });
}

/**
 * The browser's links: HTTP for queries and mutations, SSE for subscriptions. The session is
 * the daemon's HTTP-only cookie, so no token is ever visible to page scripts.
 */
export function webLinks(origin: string = globalThis.location?.origin ?? ''): ApiLink[] {
  const url = `${origin.replace(/\/$/, '')}${API_PATH}`;
  return [
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: httpSubscriptionLink({ url }),
      false: httpLink({ url }),
    }),
  ];
}
