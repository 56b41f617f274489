import {
  Backoff,
  type DaemonToAgentFrame,
  decodeAgentFrame,
  MAX_AGENT_FRAME_BYTES,
  type Secret,
  WarrenError,
} from '@warren/core';
import WebSocket from 'ws';
import { displayUrl } from './AgentConfig';
import type { AgentLog } from './AgentLog';

export interface DaemonSocketHandlers {
  /** A connection is open: the agent greets the daemon through `send`. */
  onOpen(): void;
  onFrame(frame: DaemonToAgentFrame): void;
  /** The daemon refused the token `maxUnauthorized` times in a row; the socket has stopped. */
  onUnauthorized(): void;
  /** The daemon refused the agent itself (1008, e.g. a changed host key) `maxRefused` times in a row; stopped. */
  onRefused(reason: string): void;
  /** The send buffer fell back under the high-water mark after `offer` had refused a frame. */
  onWritable(): void;
}

export interface DaemonSocketOptions {
  backoff?: Backoff;
  /** 401s in a row before giving up: a deleted workspace's agent must not dial forever. */
  maxUnauthorized?: number;
  /** 1008 closes (the daemon refused the agent) in a row before giving up. */
  maxRefused?: number;
  /** Queued bytes above which `offer` refuses frames until the socket drains. */
  highWaterBytes?: number;
  /** The daemon pings every 15 s; this long without a ping or frame means the link is dead. */
  idleTimeoutMs?: number;
  /** A connection that lasted this long starts the backoff over. */
  stableAfterMs?: number;
}

const UNEXPECTED_STATUS = /Unexpected server response: (\d{3})/;
/** Close code for a refusal: a frame the other side would not take, or an agent it will not serve. */
const POLICY_VIOLATION = 1008;

/** The agent's end of the agent WebSocket: dials, redials with backoff, and decodes frames. */
export class DaemonSocket {
  #ws: WebSocket | undefined;
  #stopped = false;
  #unauthorized = 0;
  #refused = 0;
  /** `offer` refused a frame: tell the owner once the buffer drains. */
  #waitingForDrain = false;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  readonly #backoff: Backoff;
  readonly #maxUnauthorized: number;
  readonly #maxRefused: number;
  readonly #highWaterBytes: number;
  readonly #idleTimeoutMs: number;
  readonly #stableAfterMs: number;

  constructor(
    private readonly url: URL,
    private readonly token: Secret,
    private readonly log: AgentLog,
    private readonly handlers: DaemonSocketHandlers,
    options: DaemonSocketOptions = {},
  ) {
    // Growing by half each time: a restarted daemon is back within a second or two, and so is the agent.
    this.#backoff = options.backoff ?? new Backoff({ factor: 1.5 });
    this.#maxUnauthorized = options.maxUnauthorized ?? 3;
    this.#maxRefused = options.maxRefused ?? 3;
    this.#highWaterBytes = options.highWaterBytes ?? 1024 * 1024;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
    this.#stableAfterMs = options.stableAfterMs ?? 10_000;
  }

  get isOpen(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  start(): void {
    this.#connect();
  }

  /** Writes a frame if a connection is open; false otherwise (the caller keeps it for later). */
  send(text: string): boolean {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(text, () => this.#written(ws));
    return true;
  }

  /**
   * Like `send`, but also refuses while more than the high-water mark waits to be written, so
   * a chatty script cannot fill memory faster than the daemon reads; `onWritable` says when to
   * offer again. Small control frames use `send` and are never held back.
   */
  offer(text: string): boolean {
    const ws = this.#ws;
    if (ws && ws.readyState === WebSocket.OPEN && ws.bufferedAmount > this.#highWaterBytes) {
      this.#waitingForDrain = true;
      return false;
    }
    return this.send(text);
  }

  #written(ws: WebSocket): void {
    if (!this.#waitingForDrain || ws !== this.#ws || ws.bufferedAmount > this.#highWaterBytes) return;
    this.#waitingForDrain = false;
    this.handlers.onWritable();
  }

  /** Stops redialing and closes the connection after what was sent has been written. */
  async close(timeoutMs = 3000): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#idleTimer);
    const ws = this.#ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, timeoutMs);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'agent stopped');
      else ws.terminate();
    });
  }

  #connect(): void {
    if (this.#stopped) return;
    const ws = new WebSocket(this.url, {
      headers: { authorization: `Bearer ${this.token.reveal()}` },
      handshakeTimeout: 10_000,
      maxPayload: MAX_AGENT_FRAME_BYTES,
      perMessageDeflate: false,
    });
    this.#ws = ws;
    let openedAt: number | undefined;
    let status: number | undefined;
    let closedByAgent = false;

    ws.on('open', () => {
      openedAt = Date.now();
      this.#unauthorized = 0;
      this.log.info('connected to the daemon', { url: displayUrl(this.url) });
      this.#touch(ws);
      this.handlers.onOpen();
    });
    ws.on('ping', () => this.#touch(ws));
    ws.on('message', (data, isBinary) => {
      this.#touch(ws);
      let frame: DaemonToAgentFrame;
      try {
        if (isBinary) throw new WarrenError('INVALID_INPUT', 'The daemon sent a binary frame.');
        frame = decodeAgentFrame(data as Buffer, 'to-agent');
      } catch (error) {
        // A daemon speaking another protocol version: drop the link and try again later.
        this.log.error('the daemon sent a frame this agent does not understand', {
          error: (error as Error).message,
        });
        closedByAgent = true;
        ws.close(POLICY_VIOLATION, 'invalid frame');
        return;
      }
      // The daemon took the hello: earlier refusals were passing (say, a replica out of date).
      if (frame.type === 'manifest') this.#refused = 0;
      this.handlers.onFrame(frame);
    });
    ws.on('error', (error) => {
      status = Number(UNEXPECTED_STATUS.exec(error.message)?.[1]) || undefined;
      if (status !== 401)
        this.log.warn('could not reach the daemon', { url: displayUrl(this.url), error: error.message });
    });
    ws.on('close', (code, reason) => {
      clearTimeout(this.#idleTimer);
      if (this.#ws === ws) this.#ws = undefined;
      if (openedAt !== undefined) {
        this.log.info('disconnected from the daemon', { code, reason: reason.toString() });
        if (Date.now() - openedAt >= this.#stableAfterMs) this.#backoff.reset();
      }
      if (this.#stopped) return;
      if (status === 401 && this.#refusedTooOften()) return;
      if (code === POLICY_VIOLATION && openedAt !== undefined && !closedByAgent) {
        if (this.#refusedAgentTooOften(reason.toString())) return;
      }
      const delay = this.#backoff.next();
      this.log.debug('reconnecting', { delayMs: delay });
      this.#reconnectTimer = setTimeout(() => this.#connect(), delay);
    });
  }

  #refusedTooOften(): boolean {
    this.#unauthorized += 1;
    this.log.error(
      `the daemon refused the agent token (401, attempt ${this.#unauthorized} of ${this.#maxUnauthorized}); ` +
        'the workspace may have been stopped, rebuilt or deleted',
    );
    if (this.#unauthorized < this.#maxUnauthorized) return false;
    this.#stopped = true;
    this.handlers.onUnauthorized();
    return true;
  }

  #refusedAgentTooOften(reason: string): boolean {
    this.#refused += 1;
    this.log.error(
      `the daemon refused this agent (attempt ${this.#refused} of ${this.#maxRefused}): ${reason || 'no reason given'}`,
    );
    if (this.#refused < this.#maxRefused) return false;
    this.#stopped = true;
    this.log.error(`giving up: the daemon refused this agent ${this.#refused} times in a row: ${reason}`);
    this.handlers.onRefused(reason);
    return true;
  }

  #touch(ws: WebSocket): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      this.log.warn('no word from the daemon for a while; reconnecting', { idleMs: this.#idleTimeoutMs });
      ws.terminate();
    }, this.#idleTimeoutMs);
  }
}
