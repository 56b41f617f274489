import { performance } from 'node:perf_hooks';
import { type BodyMeter, bodyMeter } from './BodyMeter';
import { clientResponseHeaders, type HeaderMap, headerValue, OVERHEAD_HEADER } from './forwardedHeaders';
import type { GatewaySink } from './GatewaySink';
import { CLIENT_CLOSED, type Interception } from './Interception';
import { type GatewayErrorKind, providerErrorEvent } from './providerErrors';
import type { ResponseReader } from './UpstreamExchange';
import type { WireFormat } from './usage';

/** Upstream error bodies are read whole (to take any key out of them) up to this size. */
const MAX_ERROR_BODY_BYTES = 1024 * 1024;
const REDACTED = '[redacted]';

/** What a reader needs of the call it answers. */
export interface ReaderCall {
  x: Interception;
  format: WireFormat | undefined;
  signal: { readonly aborted: boolean };
  sink: GatewaySink;
  /** Answers the client with a provider-shaped error from the gateway itself. */
  refuse: (kind: GatewayErrorKind, message: string) => void;
}

/** Why an upstream request failed, in the terms the client is told. */
export function upstreamFault(
  error: unknown,
  provider: string,
): { kind: 'timeout' | 'upstream'; message: string } {
  const code = (error as { code?: string } | undefined)?.code ?? '';
  if (/TIMEOUT/i.test(code))
    return { kind: 'timeout', message: `The AI provider "${provider}" did not answer in time.` };
  const reason = code ? ` (${code})` : '';
  return { kind: 'upstream', message: `The connection to the AI provider "${provider}" failed${reason}.` };
}

export function clientGone(x: Interception): void {
  x.status = CLIENT_CLOSED;
  x.error = 'The client closed the connection before the response ended.';
}

/** A successful answer: its head sent at once, then chunk by chunk as it arrives, metered on the side. */
export class RelayReader implements ResponseReader {
  readonly #meter: BodyMeter;
  readonly #streamed: boolean;

  constructor(
    private readonly call: ReaderCall,
    status: number,
    upstream: HeaderMap,
    key: string | undefined,
    /** Logs an upstream fault that cut the answer off. */
    private readonly logFault: (message: string) => void,
  ) {
    const { x, sink } = call;
    const headers = redactHeaders(clientResponseHeaders(upstream), key);
    const contentType = headerValue(upstream, 'content-type');
    this.#streamed = contentType?.startsWith('text/event-stream') === true;
    this.#meter = bodyMeter(call.format, contentType);
    headers[OVERHEAD_HEADER] = x.markHead().toFixed(3);
    x.status = status;
    sink.head(status, headers, this.#streamed);
  }

  data(chunk: Buffer, resume: () => void): boolean {
    this.call.x.firstByteAt ??= performance.now();
    const more = this.call.sink.write(chunk);
    this.#meter.push(chunk);
    if (!more) this.call.sink.drained().then(resume);
    return more;
  }

  end(): void {
    this.call.sink.end();
    this.call.x.metered = this.#meter.result();
  }

  error(error: Error): void {
    const { x, sink, signal } = this.call;
    x.metered = this.#meter.result();
    if (signal.aborted) {
      clientGone(x);
      sink.destroy();
      return;
    }
    const fault = upstreamFault(error, x.model?.provider.name ?? '');
    x.status = fault.kind === 'timeout' ? 504 : 502;
    x.error = `${fault.message} The response was cut off.`;
    this.logFault(x.error);
    // A stream cut between events can still end with an error event the client's SDK raises.
    if (this.#streamed && this.#meter.atEventBoundary)
      sink.end(providerErrorEvent(x.family, fault.kind, x.error));
    else sink.destroy();
  }
}

/** An upstream error: read whole (it is small), any key taken out, then sent on. */
export class ErrorReader implements ResponseReader {
  readonly #chunks: Buffer[] = [];
  #size = 0;

  constructor(
    private readonly call: ReaderCall,
    private readonly status: number,
    private readonly upstream: HeaderMap,
    private readonly key: string | undefined,
  ) {}

  data(chunk: Buffer): boolean {
    this.#size += chunk.length;
    if (this.#size <= MAX_ERROR_BODY_BYTES) this.#chunks.push(chunk);
    return true;
  }

  end(): void {
    const { x, sink } = this.call;
    const { status, key } = this;
    x.upstreamHeadersAt = performance.now();
    let text = Buffer.concat(this.#chunks).toString('utf8');
    if (key) text = text.replaceAll(key, REDACTED);
    const headers = redactHeaders(clientResponseHeaders(this.upstream), key);
    headers['content-length'] = String(Buffer.byteLength(text));
    headers[OVERHEAD_HEADER] = x.markHead().toFixed(3);
    x.status = status;
    x.error = errorMessage(text) ?? `The AI provider answered ${status}.`;
    sink.head(status, headers);
    sink.end(text);
  }

  error(error: Error): void {
    const { x } = this.call;
    if (this.call.signal.aborted) {
      clientGone(x);
      return;
    }
    const fault = upstreamFault(error, x.model?.provider.name ?? '');
    this.call.refuse(fault.kind, fault.message);
  }
}

/** Reads a failed-over answer to its end and drops it, so its connection can be reused. */
export const DISCARD: ResponseReader = { data: () => true, end: () => {}, error: () => {} };

function redactHeaders(headers: Record<string, string | string[]>, key: string | undefined) {
  if (!key) return headers;
  for (const name in headers) {
    const value = headers[name] as string | string[];
    if (typeof value === 'string') {
      if (value.includes(key)) headers[name] = value.replaceAll(key, REDACTED);
    } else headers[name] = value.map((v) => v.replaceAll(key, REDACTED));
  }
  return headers;
}

/** The message of a provider-shaped error body (both families put it at error.message). */
function errorMessage(text: string): string | undefined {
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' ? message.slice(0, 1000) : undefined;
  } catch {
    return undefined;
  }
}
