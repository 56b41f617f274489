import {
  type AgentStreamTerminal,
  decodeTerminalClientFrame,
  encodeTerminalAgentFrame,
  type TerminalAgentFrame,
  WarrenError,
} from '@warren/core';
import { rawDataBytes } from '@warren/core/node';
import type { RawData, WebSocket } from 'ws';
import type { TerminalAttachment, TerminalSink } from '../terminals/ReconnectingPty';
import type { TerminalSessions } from '../terminals/TerminalSessions';

/** Above this many bytes queued toward the client, the terminal is held until it drains. */
const HIGH_WATER_BYTES = 512 * 1024;
/** Frames a client may send before its terminal has started (the first attach downloads the addon). */
const MAX_EARLY_FRAMES = 256;

export type TerminalStreamRequest = AgentStreamTerminal;

/**
 * One client's view of a reconnecting terminal, over a stream socket the daemon relays: terminal
 * frames both ways. Closing the socket detaches (the terminal keeps running for the next attach);
 * a frame that breaks the protocol ends this client's connection with an error frame, never the
 * terminal or the agent.
 */
export function serveTerminalStream(
  socket: WebSocket,
  sessions: TerminalSessions,
  request: TerminalStreamRequest,
): void {
  let attachment: TerminalAttachment | undefined;
  let closed = false;
  let failed = false;
  const early: [RawData, boolean][] = [];
  const send = (frame: TerminalAgentFrame, done?: () => void) => {
    if (socket.readyState !== socket.OPEN) return;
    socket.send(encodeTerminalAgentFrame(frame), { binary: true }, done);
  };
  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    const warren = error instanceof WarrenError ? error : new WarrenError('INTERNAL', 'The terminal failed.');
    try {
      send({ type: 'error', code: warren.code, message: utf8Prefix(warren.message, 1000) });
    } finally {
      socket.close(warren.code === 'INVALID_INPUT' ? 1008 : 1011);
    }
  };
  const onMessage = (data: RawData, isBinary: boolean) => {
    if (failed) return;
    if (!attachment) {
      if (early.length >= MAX_EARLY_FRAMES)
        return fail(
          new WarrenError('TOO_MANY_REQUESTS', 'Too much input arrived before the terminal started.'),
        );
      return void early.push([data, isBinary]);
    }
    try {
      if (!isBinary) throw new WarrenError('INVALID_INPUT', 'Terminal frames are binary.');
      const frame = decodeTerminalClientFrame(rawDataBytes(data));
      if (frame.type === 'input') attachment.write(frame.data);
      else attachment.resize(frame.cols, frame.rows);
    } catch (error) {
      fail(error);
    }
  };
  socket.on('message', (data, isBinary) => onMessage(data, isBinary));
  socket.once('close', () => {
    closed = true;
    attachment?.detach();
  });

  let paused = false;
  const sink: TerminalSink = {
    data: (chunk) => {
      send({ type: 'output', data: chunk }, () => {
        if (paused && socket.bufferedAmount < HIGH_WATER_BYTES / 2) {
          paused = false;
          attachment?.resume();
        }
      });
      if (!paused && socket.bufferedAmount > HIGH_WATER_BYTES) {
        paused = true;
        attachment?.pause();
      }
    },
    exit: (exitCode, signal) => {
      send({ type: 'exit', exitCode, signal });
      socket.close(1000, 'the terminal exited');
    },
  };
  sessions
    .attach(request.session, { cols: request.cols, rows: request.rows, command: request.command }, sink)
    .then((attached) => {
      if (closed) return attached.detach();
      attachment = attached;
      for (const [data, isBinary] of early.splice(0)) onMessage(data, isBinary);
    })
    .catch(fail);
}

/** At most `maxBytes` of UTF-8, cut on a character boundary. */
function utf8Prefix(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  return new TextDecoder().decode(bytes.subarray(0, maxBytes)).replace(/\uFFFD$/, '');
}
