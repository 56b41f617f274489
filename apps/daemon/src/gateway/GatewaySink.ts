import { EventEmitter } from 'node:events';
import type { Actor } from '../auth/policy';
import type { HeaderMap } from './forwardedHeaders';

/** Who is calling from inside the daemon (the chat loop), already authenticated. */
export interface GatewayContext {
  /** Recorded on the interception, so a chat's model calls can be found. */
  chatId?: string;
  /** When given, no Warren token is read from the request: the caller vouches for the user. */
  actor?: Actor;
}

/**
 * Says when a client went away. An AbortController would do, but costs several microseconds
 * per request; undici takes any emitter of 'abort' as a request's signal.
 */
export class CallAbort extends EventEmitter {
  aborted = false;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}

/** A request as the gateway core sees it, whatever carried it (an HTTP socket or an in-process fetch). */
export interface GatewayCall {
  method: string;
  /** Path and query string, e.g. /api/v2/aigateway/openai/v1/chat/completions. */
  url: string;
  /** Lower-case header names. */
  headers: HeaderMap;
  body: Buffer | undefined;
  /** Aborts when the client goes away; the upstream request is aborted with it. */
  signal: CallAbort;
  /** performance.now() when the request arrived. */
  receivedAt: number;
  context?: GatewayContext | undefined;
}

/**
 * Where the core writes its response, as it goes: the head once, then chunks as they arrive
 * from upstream (never collected first), then the end. Each transport implements it over its
 * own stream, with backpressure: `write` returns false when the client is not keeping up.
 */
export interface GatewaySink {
  /** `flush` sends the head right away (streams), instead of with the first chunk. */
  head(status: number, headers: Record<string, string | string[]>, flush?: boolean): void;
  write(chunk: Uint8Array): boolean;
  /** Resolves when the client can take more (or has gone away). */
  drained(): Promise<void>;
  end(last?: string | Uint8Array): void;
  /** Ends the response abruptly: the upstream broke mid-body and there is no clean way to say so. */
  destroy(): void;
}
