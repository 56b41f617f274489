import { type AgentStreamFrame, MAX_AGENT_FRAME_BYTES, type Secret, STANDBY_STREAM_ID } from '@warren/core';
import { zeroMask } from '@warren/core/node';
import WebSocket from 'ws';
import type { AgentLog } from '../AgentLog';

/** How long the agent tries to dial a stream back before giving up (the daemon waits 10 s). */
const DIAL_TIMEOUT_MS = 8000;
/** After a standby socket failed, wait this long before dialling another. */
const STANDBY_RETRY_MS = 2000;

/**
 * Dials the stream sockets the daemon asks for (`stream` frames): one WebSocket per tunnel, at
 * `.../api/v2/agents/streams/<id>` beside the control socket, with the agent token. Each open
 * socket goes to the handler for its kind.
 */
export class StreamDialer {
  constructor(
    private readonly connectUrl: URL,
    private readonly token: Secret,
    private readonly log: AgentLog,
  ) {}

  #standby: WebSocket | undefined;
  #keepStandby = false;

  dial(frame: AgentStreamFrame, onOpen: (socket: WebSocket) => void): void {
    const socket = this.#open(frame.id);
    socket.once('open', () => onOpen(socket));
    socket.once('error', (error) => {
      this.log.warn('could not open a stream the daemon asked for', {
        kind: frame.kind,
        error: error.message,
      });
    });
  }

  /**
   * Keeps one stream socket open in advance, so a new tunnel skips the dial. `onOpen` gets each
   * standby once it is open, with `used`: call it when the daemon hands the socket a stream (its
   * `stream` frame), and the next standby is dialled then, after the stream's first bytes left.
   */
  keepStandby(onOpen: (socket: WebSocket, used: () => void) => void): void {
    this.#keepStandby = true;
    if (this.#standby) return;
    const socket = this.#open(STANDBY_STREAM_ID);
    this.#standby = socket;
    let used = false;
    socket.once('open', () =>
      onOpen(socket, () => {
        if (used) return;
        used = true;
        if (this.#standby === socket) this.#standby = undefined;
        if (this.#keepStandby) this.keepStandby(onOpen);
      }),
    );
    const retry = () => {
      if (used || this.#standby !== socket) return;
      this.#standby = undefined;
      if (this.#keepStandby)
        setTimeout(() => this.#keepStandby && this.keepStandby(onOpen), STANDBY_RETRY_MS).unref();
    };
    socket.once('close', retry);
    socket.once('error', retry);
  }

  /** Stops keeping a standby socket (the control socket is down, or the agent is stopping). */
  dropStandby(): void {
    this.#keepStandby = false;
    this.#standby?.close(1001, 'standby no longer wanted');
    this.#standby = undefined;
  }

  #open(id: string): WebSocket {
    const url = new URL(`streams/${encodeURIComponent(id)}`, this.connectUrl.href.replace(/connect$/, ''));
    const socket = new WebSocket(url, {
      headers: { authorization: `Bearer ${this.token.reveal()}` },
      maxPayload: MAX_AGENT_FRAME_BYTES,
      perMessageDeflate: false,
      generateMask: zeroMask,
      handshakeTimeout: DIAL_TIMEOUT_MS,
    });
    socket.once('open', () => {
      // Small writes (keystrokes, SSH packets) go out at once.
      (socket as unknown as { _socket?: { setNoDelay(v: boolean): void } })._socket?.setNoDelay(true);
    });
    // A failed dial is reported by whoever dialled; this keeps it from being an uncaught error.
    socket.on('error', () => {});
    return socket;
  }
}
