import { type AgentStreamFrame, MAX_AGENT_FRAME_BYTES, type Secret } from '@warren/core';
import { zeroMask } from '@warren/core/node';
import WebSocket from 'ws';
import type { AgentLog } from '../AgentLog';

/** How long the agent tries to dial a stream back before giving up (the daemon waits 10 s). */
const DIAL_TIMEOUT_MS = 8000;

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

  dial(frame: AgentStreamFrame, onOpen: (socket: WebSocket) => void): void {
    const url = new URL(
      `streams/${encodeURIComponent(frame.id)}`,
      this.connectUrl.href.replace(/connect$/, ''),
    );
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
      onOpen(socket);
    });
    socket.once('error', (error) => {
      this.log.warn('could not open a stream the daemon asked for', {
        kind: frame.kind,
        error: error.message,
      });
    });
  }
}
