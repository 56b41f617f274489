import type { Dispatcher } from 'undici';
import type { HeaderMap } from './forwardedHeaders';
import type { CallAbort } from './GatewaySink';

/** What to do with a response's body, chosen from its status and headers as they arrive. */
export interface ResponseReader {
  /** Called for each body chunk; returning false pauses the upstream until `resume` is called. */
  data(chunk: Buffer, resume: () => void): boolean;
  end(): void;
  /** The connection broke (or timed out, or the client left) after the headers. */
  error(error: Error): void;
}

export type ExchangeOutcome = { kind: 'response'; done: Promise<void> } | { kind: 'failed'; error: Error };

export type HeadHandler = (status: number, headers: HeaderMap) => ResponseReader;

/**
 * One request to the upstream through undici's dispatch API: the response's head goes to
 * `onHead`, which returns the reader for its body, and each chunk reaches that reader in the
 * same tick the socket delivered it. undici's request() would wrap the body in a Readable and
 * the head in a promise: a good share of the daemon's time per stream, and a tick between
 * chunks that arrived together (so they could not leave in one write). Resolves when the head
 * has arrived, or the request failed before it did.
 */
export function exchange(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  signal: CallAbort,
  onHead: HeadHandler,
): Promise<ExchangeOutcome> {
  return new Promise((settle) => {
    dispatcher.dispatch(options, new UpstreamExchange(signal, onHead, settle));
  });
}

/** One object per request (its methods on the prototype), rather than a closure per callback. */
class UpstreamExchange implements Dispatcher.DispatchHandler {
  #controller: Dispatcher.DispatchController | undefined;
  #reader: ResponseReader | undefined;
  #finish: (() => void) | undefined;
  readonly #onAbort = () => this.#controller?.abort(clientGone());
  readonly #resume = () => this.#controller?.resume();

  constructor(
    private readonly signal: CallAbort,
    private readonly onHead: HeadHandler,
    private readonly settle: (outcome: ExchangeOutcome) => void,
  ) {
    signal.once('abort', this.#onAbort);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.signal.aborted) controller.abort(clientGone());
  }

  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: HeaderMap): void {
    if (status < 200) return; // 1xx: the real head follows.
    this.#reader = this.onHead(status, headers);
    this.settle({ kind: 'response', done: new Promise((resolve) => (this.#finish = resolve)) });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#reader && !this.#reader.data(chunk, this.#resume)) controller.pause();
  }

  onResponseEnd(): void {
    this.signal.off('abort', this.#onAbort);
    this.#reader?.end();
    this.#finish?.();
  }

  onResponseError(_c: Dispatcher.DispatchController, error: Error): void {
    this.signal.off('abort', this.#onAbort);
    if (!this.#reader) {
      this.settle({ kind: 'failed', error });
      return;
    }
    this.#reader.error(error);
    this.#finish?.();
  }
}

function clientGone(): Error {
  return Object.assign(new Error('The client went away.'), { code: 'CLIENT_GONE' });
}
