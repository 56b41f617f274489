import type { Dispatcher } from 'undici';
import type { HeaderMap } from './forwardedHeaders';
import type { CallAbort } from './GatewaySink';

/** What to do with a response, decided from its status and headers as they arrive. */
export interface ResponseReader {
  /** Called for each body chunk; returning false pauses the upstream until `resume` is called. */
  data(chunk: Buffer, resume: () => void): boolean;
  end(): void;
  /** The connection broke (or timed out, or the client left) after the headers. */
  error(error: Error): void;
}

export type ExchangeOutcome =
  | { kind: 'response'; done: Promise<void> }
  | { kind: 'failed'; error: Error };

/**
 * One request to the upstream through undici's dispatch API: the response's head goes to
 * `onHead`, which returns the reader for its body, and each chunk reaches that reader in the
 * same tick the socket delivered it. undici's request() would wrap the body in a Readable and
 * the head in a promise: about a fifth of the daemon's time per stream, and one tick of delay
 * between chunks that arrived together (so they could not leave in one write).
 */
export function exchange(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  signal: CallAbort,
  onHead: (status: number, headers: HeaderMap) => ResponseReader,
): Promise<ExchangeOutcome> {
  return new Promise((settle) => {
    let controller: Dispatcher.DispatchController | undefined;
    let reader: ResponseReader | undefined;
    let finish: (() => void) | undefined;
    const abortReason = () => Object.assign(new Error('The client went away.'), { code: 'CLIENT_GONE' });
    const onAbort = () => controller?.abort(abortReason());
    signal.once('abort', onAbort);
    const resume = () => controller?.resume();
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (signal.aborted) c.abort(abortReason());
      },
      onResponseStart(_c, status, headers) {
        if (status < 200) return; // 1xx: the real head follows.
        reader = onHead(status, headers);
        settle({ kind: 'response', done: new Promise((resolve) => (finish = resolve)) });
      },
      onResponseData(c, chunk) {
        if (reader && !reader.data(chunk, resume)) c.pause();
      },
      onResponseEnd() {
        signal.off('abort', onAbort);
        reader?.end();
        finish?.();
      },
      onResponseError(_c, error) {
        signal.off('abort', onAbort);
        if (!reader) return settle({ kind: 'failed', error });
        reader.error(error);
        finish?.();
      },
    };
    dispatcher.dispatch(options, handler);
  });
}
