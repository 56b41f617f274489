import { z } from 'zod';

/**
 * tRPC over a message port between the renderer and the main process (electron-trpc style, for
 * tRPC v11 with subscriptions). The renderer never holds the token: it names an operation, and
 * the main process runs it against the daemon (`daemon`) or its own API (`desktop`).
 */
export const ipcRequest = z.discriminatedUnion('t', [
  z
    .object({
      t: z.literal('op'),
      id: z.number().int().nonnegative(),
      target: z.enum(['daemon', 'desktop']),
      type: z.enum(['query', 'mutation', 'subscription']),
      path: z
        .string()
        .regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/)
        .max(200),
      input: z.unknown(),
    })
    .strict(),
  z.object({ t: z.literal('stop'), id: z.number().int().nonnegative() }).strict(),
]);
export type IpcRequest = z.infer<typeof ipcRequest>;

/** The error as the daemon's tRPC error formatter shapes it: the renderer sees the same errors either way. */
export interface IpcErrorShape {
  code: number;
  message: string;
  data: { code: string; httpStatus?: number; path?: string };
}

export type IpcResponse =
  | { t: 'result'; id: number; data: unknown }
  | { t: 'started'; id: number }
  | { t: 'data'; id: number; data: unknown }
  | { t: 'error'; id: number; error: IpcErrorShape }
  | { t: 'complete'; id: number };

/** The least a message port offers, whichever runtime's it is (Node, Electron main, DOM). */
export interface IpcPort {
  postMessage(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  onClose(listener: () => void): void;
}
