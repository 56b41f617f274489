import { performance } from 'node:perf_hooks';
import type { HeaderMap } from './forwardedHeaders';
import type { GatewayHandler } from './GatewayHandler';
import { CallAbort, type GatewayContext, type GatewaySink } from './GatewaySink';

/** Chunks the response stream holds before the upstream is paused for a slow reader. */
const QUEUED_CHUNKS = 16;

/**
 * The gateway as a fetch function: a WHATWG Request in, a Response whose body streams the
 * upstream's chunks as they arrive. Cancelling the body (or aborting the request's signal)
 * aborts the upstream call, as a client disconnecting would.
 */
export async function handleFetch(
  gateway: GatewayHandler,
  request: Request,
  context?: GatewayContext,
): Promise<Response> {
  const receivedAt = performance.now();
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  const body = hasBody ? Buffer.from(await request.arrayBuffer()) : undefined;
  const headers: HeaderMap = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const url = new URL(request.url);
  const abort = new CallAbort();
  if (request.signal.aborted) abort.abort();
  else request.signal.addEventListener('abort', () => abort.abort(), { once: true });
  return new Promise<Response>((resolve, reject) => {
    const sink = new ResponseStreamSink(resolve, reject, abort);
    gateway
      .serve(
        {
          method: request.method,
          url: url.pathname + url.search,
          headers,
          body,
          signal: abort,
          receivedAt,
          context,
        },
        sink,
      )
      .finally(() => sink.settle());
  });
}

class ResponseStreamSink implements GatewaySink {
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #wake: (() => void) | undefined;
  #closed = false;
  #answered = false;

  constructor(
    private readonly resolve: (response: Response) => void,
    private readonly reject: (error: unknown) => void,
    private readonly abort: CallAbort,
  ) {}

  head(status: number, headers: Record<string, string | string[]>): void {
    const out = new Headers();
    for (const [name, value] of Object.entries(headers)) {
      if (Array.isArray(value)) for (const v of value) out.append(name, v);
      else out.set(name, value);
    }
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        pull: () => this.#drain(),
        cancel: () => {
          this.#closed = true;
          this.abort.abort();
          this.#drain();
        },
      },
      new CountQueuingStrategy({ highWaterMark: QUEUED_CHUNKS }),
    );
    this.#answered = true;
    this.resolve(new Response(stream, { status, headers: out }));
  }

  write(chunk: Uint8Array): boolean {
    if (this.#closed || !this.#controller) return true;
    this.#controller.enqueue(chunk);
    return (this.#controller.desiredSize ?? 0) > 0;
  }

  drained(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  end(last?: string | Uint8Array): void {
    if (this.#closed) return;
    if (last !== undefined) this.write(typeof last === 'string' ? Buffer.from(last) : last);
    this.#closed = true;
    this.#controller?.close();
  }

  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#controller?.error(
      this.abort.aborted
        ? abortError()
        : new Error('The AI provider connection broke before the response ended.'),
    );
  }

  /** The call ended without a head: the caller aborted it, as fetch reports that. */
  settle(): void {
    if (!this.#answered) {
      this.#answered = true;
      this.reject(abortError());
    }
    this.#drain();
  }

  #drain(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

function abortError(): DOMException {
  return new DOMException('The operation was aborted.', 'AbortError');
}
