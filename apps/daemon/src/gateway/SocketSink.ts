import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { tickCorker } from '@warren/core/node';
import type { GatewayHandler } from './GatewayHandler';
import { CallAbort, type GatewaySink } from './GatewaySink';

/**
 * One call from an HTTP request whose body has been read, answered straight onto its socket.
 * Both ways in share it: Fastify's gateway route and the front door that comes before it.
 */
export function serveOverHttp(
  gateway: GatewayHandler,
  request: { method: string; url: string; headers: IncomingHttpHeaders },
  res: ServerResponse,
  body: Buffer | undefined,
  /** performance.now() when the request arrived. */
  receivedAt: number,
): Promise<void> {
  const abort = new CallAbort();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  return gateway.serve(
    { method: request.method, url: request.url, headers: request.headers, body, signal: abort, receivedAt },
    new SocketSink(res),
  );
}

/** Writes the core's answer to the Node response, honouring its backpressure. */
class SocketSink implements GatewaySink {
  readonly #cork: () => void;

  constructor(private readonly res: ServerResponse) {
    this.#cork = tickCorker(res);
  }

  head(status: number, headers: Record<string, string | string[]>, flush = false): void {
    if (this.res.destroyed) return;
    this.res.writeHead(status, headers);
    // A stream's head goes out now, as the provider's did, unless its first chunk is already
    // here: then both leave in one write (Node sends the head with the first chunk).
    if (flush) setImmediate(() => this.#flushHead());
  }

  #flushHead(): void {
    if (!this.res.headersSent && !this.res.destroyed) this.res.flushHeaders();
  }

  write(chunk: Uint8Array): boolean {
    if (this.res.destroyed) return true;
    // Chunks that arrived together (and the end, when it came with them) leave in one write:
    // corked until the tick is over, as one writev instead of a syscall each.
    this.#cork();
    return this.res.write(chunk);
  }

  drained(): Promise<void> {
    if (this.res.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.once('drain', done);
      this.res.once('close', done);
    });
  }

  end(last?: string | Uint8Array): void {
    if (!this.res.destroyed) this.res.end(last);
  }

  destroy(): void {
    this.res.destroy();
  }
}
