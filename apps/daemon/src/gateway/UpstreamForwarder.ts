import { performance } from 'node:perf_hooks';
import type { Secret } from '@warren/core';
import { Agent } from 'undici';
import type { Logger } from '../log/logger';
import type { GatewayModel } from './DirectorySnapshot';
import { credentialHeader, type HeaderMap, headerValue, upstreamRequestHeaders } from './forwardedHeaders';
import type { CallAbort, GatewaySink } from './GatewaySink';
import type { Interception } from './Interception';
import type { GatewayErrorKind } from './providerErrors';
import { clientGone, DISCARD, ErrorReader, RelayReader, upstreamFault } from './ResponseReaders';
import { exchange } from './UpstreamExchange';
import type { WireFormat } from './usage';

/** Default time the upstream may stay silent (before its headers, or between chunks). */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 600_000;

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
          if (status >= 400) return new ErrorReader(call, status, responseHeaders, sent);
          const logFault = (message: string) => this.#logFault(x, message, true);
          return new RelayReader(call, status, responseHeaders, sent, logFault);
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
}

/** The provider key a delegated client sent (Bearer or x-api-key), to keep it out of what is stored. */
function delegatedKey(headers: HeaderMap): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headerValue(headers, 'authorization') ?? '')?.[1];
  const key = bearer ?? headerValue(headers, 'x-api-key')?.trim();
  return key && key.length >= 8 ? key : undefined;
}
