import { performance } from 'node:perf_hooks';
import type { Secret } from '@warren/core';
import { Agent } from 'undici';
import type { Logger } from '../log/logger';
import { bodyMeter } from './BodyMeter';
import type { GatewayModel } from './DirectorySnapshot';
import {
  clientResponseHeaders,
  credentialHeader,
  type HeaderMap,
  headerValue,
  OVERHEAD_HEADER,
  upstreamRequestHeaders,
} from './forwardedHeaders';
import type { CallAbort, GatewaySink } from './GatewaySink';
import { CLIENT_CLOSED, type Interception } from './Interception';
import { type GatewayErrorKind, providerErrorEvent } from './providerErrors';
import { exchange, type ResponseReader } from './UpstreamExchange';
import type { WireFormat } from './usage';

/** Default time the upstream may stay silent (before its headers, or between chunks). */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 600_000;
/** Upstream error bodies are read whole (to take any key out of them) up to this size. */
const MAX_ERROR_BODY_BYTES = 1024 * 1024;
const REDACTED = '[redacted]';

/** One way to make the call: a model of a provider, and the key the gateway sends (none when delegated). */
export interface Attempt {
  model: GatewayModel;
  key: Secret | undefined;
}

export interface UpstreamCall {
  x: Interception;
  upstreamPath: string;
  format: WireFormat | undefined;
  clientHeaders: HeaderMap;
  delegated: boolean;
  /** Tried in order; the next one only after a connection failure, a timeout or a 5xx. */
  attempts: Attempt[];
  body: (model: GatewayModel) => Buffer;
  signal: CallAbort;
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

/**
 * Sends a model call upstream and streams the answer back as it arrives, metering a copy of
 * it. Upstream errors pass through as the provider wrote them (they are provider-shaped
 * already), with any key the gateway sent taken out.
 */
export class UpstreamForwarder {
  readonly #agent: Agent;

  constructor(
    private readonly log: Logger,
    private readonly timeoutMs = DEFAULT_UPSTREAM_TIMEOUT_MS,
  ) {
    this.#agent = new Agent({ keepAliveTimeout: 30_000, connect: { timeout: Math.min(timeoutMs, 30_000) } });
  }

  close(): Promise<void> {
    return this.#agent.close();
  }

  async forward(call: UpstreamCall): Promise<void> {
    const { x, attempts, signal } = call;
    for (let i = 0; i < attempts.length; i++) {
      const attempt = attempts[i] as Attempt;
      const last = i === attempts.length - 1;
      const provider = attempt.model.provider;
      x.model = attempt.model;
      const key = attempt.key?.reveal();
      const headers = upstreamRequestHeaders(call.clientHeaders, {
        delegated: call.delegated,
        credential: key === undefined ? undefined : credentialHeader(provider.family, key),
      });
      const body = call.body(attempt.model);
      x.dispatchedAt ??= performance.now();
      let failedOver = false;
      const outcome = await exchange(
        this.#agent,
        {
          origin: provider.origin,
          path: provider.basePath + call.upstreamPath,
          method: 'POST',
          headers,
          body,
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
        },
        signal,
        (status, responseHeaders) => {
          x.upstreamHeadersAt = performance.now();
          if (status >= 500 && !last) {
            failedOver = true;
            this.#logFault(x, `The AI provider "${provider.name}" answered ${status}.`, false);
            return DISCARD;
          }
          // A delegated call's key is the client's own (BYOK): a provider echoing it is redacted too.
          const sent = key ?? (call.delegated ? delegatedKey(call.clientHeaders) : undefined);
          if (status >= 400) return this.#errorReader(call, status, responseHeaders, sent);
          return this.#relayReader(call, status, responseHeaders, sent);
        },
      );
      if (outcome.kind === 'failed') {
        if (signal.aborted) return clientGone(x);
        const fault = upstreamFault(outcome.error, provider.name);
        this.#logFault(x, fault.message, last);
        if (last) return call.refuse(fault.kind, fault.message);
        continue;
      }
      // A failed-over answer is read to its end in the background, so its connection is reused.
      if (!failedOver) return outcome.done;
    }
  }

  #logFault(x: Interception, message: string, last: boolean): void {
    const model = x.model?.ref;
    this.log.warn(
      { model, endpoint: x.endpoint },
      last ? message : `${message} Trying the next key or provider.`,
    );
  }

  /** An upstream error: read whole (it is small), any key taken out, then sent on. */
  #errorReader(call: UpstreamCall, status: number, upstream: HeaderMap, key: string | undefined): ResponseReader {
    const { x, sink, signal } = call;
    const chunks: Buffer[] = [];
    let size = 0;
    return {
      data: (chunk) => {
        size += chunk.length;
        if (size <= MAX_ERROR_BODY_BYTES) chunks.push(chunk);
        return true;
      },
      end: () => {
        x.upstreamHeadersAt = performance.now();
        let text = Buffer.concat(chunks).toString('utf8');
        if (key) text = text.replaceAll(key, REDACTED);
        const headers = redactHeaders(clientResponseHeaders(upstream), key);
        headers['content-length'] = String(Buffer.byteLength(text));
        headers[OVERHEAD_HEADER] = x.markHead().toFixed(3);
        x.status = status;
        x.error = errorMessage(text) ?? `The AI provider answered ${status}.`;
        sink.head(status, headers);
        sink.end(text);
      },
      error: (error) => {
        if (signal.aborted) return clientGone(x);
        const fault = upstreamFault(error, x.model?.provider.name ?? '');
        call.refuse(fault.kind, fault.message);
      },
    };
  }

  /** A successful answer: its head sent at once, then chunk by chunk as it arrives, metered on the side. */
  #relayReader(call: UpstreamCall, status: number, upstream: HeaderMap, key: string | undefined): ResponseReader {
    const { x, sink, signal } = call;
    const headers = redactHeaders(clientResponseHeaders(upstream), key);
    const contentType = headerValue(upstream, 'content-type');
    const streamed = contentType?.startsWith('text/event-stream') === true;
    const meter = bodyMeter(call.format, contentType);
    headers[OVERHEAD_HEADER] = x.markHead().toFixed(3);
    x.status = status;
    sink.head(status, headers, streamed);
    return {
      data: (chunk, resume) => {
        x.firstByteAt ??= performance.now();
        const more = sink.write(chunk);
        meter.push(chunk);
        if (!more) sink.drained().then(resume);
        return more;
      },
      end: () => {
        sink.end();
        x.metered = meter.result();
      },
      error: (error) => {
        x.metered = meter.result();
        if (signal.aborted) {
          clientGone(x);
          sink.destroy();
          return;
        }
        const fault = upstreamFault(error, x.model?.provider.name ?? '');
        x.status = fault.kind === 'timeout' ? 504 : 502;
        x.error = `${fault.message} The response was cut off.`;
        this.#logFault(x, x.error, true);
        // A stream cut between events can still end with an error event the client's SDK raises.
        if (streamed && meter.atEventBoundary) sink.end(providerErrorEvent(x.family, fault.kind, x.error));
        else sink.destroy();
      },
    };
  }
}

/** Reads a failed-over answer to its end and drops it. */
const DISCARD: ResponseReader = { data: () => true, end: () => {}, error: () => {} };

function clientGone(x: Interception): void {
  x.status = CLIENT_CLOSED;
  x.error = 'The client closed the connection before the response ended.';
}

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
/** The provider key a delegated client sent (Bearer or x-api-key), to keep it out of what is stored. */
function delegatedKey(headers: HeaderMap): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headerValue(headers, 'authorization') ?? '')?.[1];
  const key = bearer ?? headerValue(headers, 'x-api-key')?.trim();
  return key && key.length >= 8 ? key : undefined;
}

function errorMessage(text: string): string | undefined {
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' ? message.slice(0, 1000) : undefined;
  } catch {
    return undefined;
  }
}
