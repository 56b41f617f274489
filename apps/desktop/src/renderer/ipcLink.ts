import { TRPCClientError, type TRPCLink } from '@trpc/client';
import type { AnyRouter } from '@trpc/server';
import { observable } from '@trpc/server/observable';
import type { IpcPort, IpcResponse } from '../main/ipc/ipcProtocol';

type Listener = (message: IpcResponse) => void;

/**
 * One port shared by every link: it numbers operations and hands each reply to its operation.
 * Made once per page from the port the preload passes in.
 */
export class IpcConnection {
  #next = 1;
  readonly #listeners = new Map<number, Listener>();

  constructor(readonly port: IpcPort) {
    port.onMessage((message) => {
      const reply = message as IpcResponse;
      this.#listeners.get(reply.id)?.(reply);
    });
  }

  open(listener: Listener): number {
    const id = this.#next++;
    this.#listeners.set(id, listener);
    return id;
  }

  done(id: number): void {
    this.#listeners.delete(id);
  }
}

/**
 * A tRPC link over the IPC port: `daemon` operations reach the signed-in daemon through the main
 * process, `desktop` ones the main process itself. Errors arrive in the daemon's shape, so the
 * screens read them the same way as over HTTP.
 */
export function ipcLink<TRouter extends AnyRouter>(
  connection: IpcConnection,
  target: 'daemon' | 'desktop',
): TRPCLink<TRouter> {
  return () =>
    ({ op }) =>
      observable((observer) => {
        let finished = false;
        const id = connection.open((reply) => {
          switch (reply.t) {
            case 'result':
              finished = true;
              observer.next({ result: { type: 'data', data: reply.data } });
              observer.complete();
              break;
            case 'started':
              observer.next({ result: { type: 'started' } });
              break;
            case 'data':
              observer.next({ result: { type: 'data', data: reply.data } });
              break;
            case 'error':
              finished = true;
              observer.error(TRPCClientError.from({ error: reply.error }));
              break;
            case 'complete':
              finished = true;
              observer.next({ result: { type: 'stopped' } });
              observer.complete();
              break;
          }
          if (finished) connection.done(id);
        });
        connection.port.postMessage({ t: 'op', id, target, type: op.type, path: op.path, input: op.input });
        return () => {
          connection.done(id);
          if (!finished && op.type === 'subscription') connection.port.postMessage({ t: 'stop', id });
        };
      });
}
