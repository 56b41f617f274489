import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Actor } from '../auth/policy';
import { costPico } from './cost';
import type { GatewayModel } from './DirectorySnapshot';
import type { InterceptionRow } from './gatewayQueries';
import type { Family } from './providerErrors';
import { type MeteredCall, NO_USAGE } from './usage';

/** Status recorded for a call whose client went away before the response ended (nginx's 499). */
export const CLIENT_CLOSED = 499;

/** What a call consumed before its response is read: shared by every call, so never mutated. */
const NOTHING_METERED: MeteredCall = { usage: NO_USAGE, toolCalls: [] };

/**
 * One call through the gateway as it happens: who, which model, how, and its timings, until it
 * becomes a gateway_interceptions row. Times are performance.now() milliseconds.
 */
export class Interception {
  readonly startedAt: number;
  actor: Actor | undefined;
  chatId: string | null = null;
  endpoint = '';
  requestedModel = '';
  model: GatewayModel | undefined;
  streaming = false;
  credential: 'central' | 'byok' = 'central';
  status = 0;
  error: string | null = null;
  /** Replaced whole once the response is read. */
  metered: MeteredCall = NOTHING_METERED;
  /** When the first upstream request was sent, and when the answering one's headers arrived. */
  dispatchedAt: number | undefined;
  upstreamHeadersAt: number | undefined;
  headAt: number | undefined;
  firstByteAt: number | undefined;

  constructor(
    readonly family: Family,
    /** performance.now() when the transport received the request. */
    readonly receivedAt: number,
    now: number,
  ) {
    this.startedAt = now;
  }

  /**
   * Time spent in Warren rather than upstream: before the upstream request went out, plus
   * between the upstream's headers and ours. For a call answered here, all of it.
   */
  markHead(): number {
    this.headAt = performance.now();
    return this.overheadMs();
  }

  overheadMs(): number {
    const head = this.headAt ?? performance.now();
    if (this.dispatchedAt === undefined || this.upstreamHeadersAt === undefined)
      return head - this.receivedAt;
    return this.dispatchedAt - this.receivedAt + Math.max(0, head - this.upstreamHeadersAt);
  }

  cost(): number {
    return this.model ? costPico(this.metered.usage, this.model.prices) : 0;
  }

  tokens(): number {
    const { input, output, cacheRead, cacheWrite } = this.metered.usage;
    return input + output + cacheRead + cacheWrite;
  }

  /** The row, once the response has ended; undefined when no user was ever identified. */
  toRow(): InterceptionRow | undefined {
    if (!this.actor) return undefined;
    const finished = performance.now();
    const { usage, toolCalls } = this.metered;
    const firstByte = this.firstByteAt ?? this.headAt;
    return {
      id: randomUUID(),
      time: this.startedAt,
      user_id: this.actor.userId,
      api_key_id: this.actor.apiKeyId,
      chat_id: this.chatId,
      provider_id: this.model?.provider.id ?? null,
      provider_kind: this.model?.provider.kind ?? this.family,
      endpoint: this.endpoint,
      model: this.model?.name ?? this.requestedModel,
      streaming: this.streaming ? 1 : 0,
      credential: this.credential,
      status: this.status,
      error: this.error,
      input_tokens: usage.input,
      output_tokens: usage.output,
      cache_read_tokens: usage.cacheRead,
      cache_write_tokens: usage.cacheWrite,
      cost_pico_usd: this.cost(),
      ttfb_ms: firstByte === undefined ? null : Math.round(firstByte - this.receivedAt),
      total_ms: Math.round(finished - this.receivedAt),
      overhead_ms: round3(this.overheadMs()),
      tool_calls: JSON.stringify(toolCalls),
    };
  }
}

export function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
