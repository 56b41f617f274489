import type { TRPCUntypedClient } from '@trpc/client';
import type { Unsubscribable } from '@trpc/server/observable';
import { describeIssues, type ErrorCode, errorCodes, WarrenError } from '@warren/core';
import type { AppRouter } from '../api/AppRouter';
import { type IpcErrorShape, type IpcPort, type IpcResponse, ipcRequest } from './ipcProtocol';

export interface IpcApiServerOptions {
  /** The live deployment's client; throws a WarrenError when signed in nowhere. */
  daemon: () => TRPCUntypedClient<AppRouter>;
  /** A caller of the main process's own router (deployments, tunnels), called in-process. */
  desktop: () => unknown;
}

/**
 * Serves tRPC operations that arrive on a renderer's message port: daemon operations run through
 * the main process's authenticated client (so the token never crosses to the renderer), desktop
 * operations through the desktop router. Subscriptions stay open until the renderer stops them
 * or the port closes.
 */
export class IpcApiServer {
  constructor(private readonly options: IpcApiServerOptions) {}

  attach(port: IpcPort): void {
    const subscriptions = new Map<number, Unsubscribable | { unsubscribe(): void }>();
    const send = (message: IpcResponse) => port.postMessage(message);
    port.onClose(() => {
      for (const subscription of subscriptions.values()) subscription.unsubscribe();
      subscriptions.clear();
    });
    port.onMessage((raw) => {
      const parsed = ipcRequest.safeParse(raw);
      if (!parsed.success) return;
      const request = parsed.data;
      if (request.t === 'stop') {
        subscriptions.get(request.id)?.unsubscribe();
        subscriptions.delete(request.id);
        return;
      }
      const { id, target, type, path, input } = request;
      const fail = (error: unknown) => send({ t: 'error', id, error: errorShape(error, path) });
      if (target === 'desktop') {
        void this.#desktop(path, input, type, id, send, subscriptions).catch(fail);
        return;
      }
      let client: TRPCUntypedClient<AppRouter>;
      try {
        client = this.options.daemon();
      } catch (error) {
        return fail(error);
      }
      if (type === 'subscription') {
        const subscription = client.subscription(path, input, {
          onStarted: () => send({ t: 'started', id }),
          onData: (data) => send({ t: 'data', id, data }),
          onError: fail,
          onComplete: () => send({ t: 'complete', id }),
        });
        subscriptions.set(id, subscription);
        return;
      }
      const call = type === 'query' ? client.query(path, input) : client.mutation(path, input);
      call.then((data) => send({ t: 'result', id, data }), fail);
    });
  }

  async #desktop(
    path: string,
    input: unknown,
    type: 'query' | 'mutation' | 'subscription',
    id: number,
    send: (message: IpcResponse) => void,
    subscriptions: Map<number, { unsubscribe(): void }>,
  ): Promise<void> {
    let procedure: unknown = this.options.desktop();
    for (const part of path.split('.')) procedure = (procedure as Record<string, unknown>)[part];
    if (typeof procedure !== 'function')
      throw new WarrenError('NOT_FOUND', `The desktop has no procedure "${path}".`);
    const result = await (procedure as (input: unknown) => Promise<unknown>)(input);
    if (type !== 'subscription') return send({ t: 'result', id, data: result });
    const iterator = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    let stopped = false;
    subscriptions.set(id, {
      unsubscribe: () => {
        stopped = true;
        void iterator.return?.();
      },
    });
    send({ t: 'started', id });
    for (;;) {
      const next = await iterator.next();
      if (stopped) return;
      if (next.done) return send({ t: 'complete', id });
      send({ t: 'data', id, data: next.value });
    }
  }
}

/** The daemon's error shape when it sent one; otherwise the same shape built from a WarrenError or tRPC error. */
function errorShape(error: unknown, path: string): IpcErrorShape {
  const shape = (error as { shape?: IpcErrorShape }).shape;
  if (shape && typeof shape.message === 'string' && shape.data) return shape;
  const { code, message } = describe(error);
  return { code: -32603, message, data: { code, httpStatus: errorCodes[code], path } };
}

/** A desktop procedure's failure as a code and a sentence; an unexpected one hides its details. */
function describe(error: unknown): { code: ErrorCode; message: string } {
  const cause = (error as { cause?: unknown }).cause;
  for (const candidate of [error, cause])
    if (candidate instanceof WarrenError) return { code: candidate.code, message: candidate.message };
  const issues = (cause as { issues?: unknown }).issues;
  if (Array.isArray(issues)) return { code: 'INVALID_INPUT', message: describeIssues(issues) };
  const trpcCode = (error as { code?: unknown }).code;
  if (trpcCode === 'NOT_FOUND') return { code: 'NOT_FOUND', message: (error as Error).message };
  return { code: 'INTERNAL', message: 'Something went wrong in Warren desktop; the details are in its log.' };
}
