import { EventEmitter } from 'node:events';
import type { RawData, WebSocket } from 'ws';
import { TUNNEL_TERMINAL_PATH } from '../../agent/protocol';
import {
  decodeTerminalAgentFrame,
  encodeTerminalClientFrame,
  type TerminalAgentFrame,
} from '../../agent/terminalFrames';
import type { ErrorCode } from '../../errors/WarrenError';
import { openTunnel, type TunnelTarget } from './openTunnel';
import { rawDataBytes } from './rawDataBytes';

export interface TerminalClientEvents {
  output: [data: Uint8Array];
  exit: [exitCode: number | null, signal: string | null];
  /** The agent refused or ended the terminal, with a sentence (not an EventEmitter 'error'). */
  refused: [code: ErrorCode, message: string];
  close: [];
}

/**
 * One attachment to a workspace's reconnecting terminal, in Node (the desktop's main process, the
 * tests). Attaching again with the same session id replays the scrollback, then goes live.
 */
export class TerminalClient extends EventEmitter<TerminalClientEvents> {
  /** Frames that came before anyone listened (the scrollback replay comes at once): kept, not lost. */
  readonly #held: TerminalAgentFrame[] = [];

  constructor(readonly socket: WebSocket) {
    super();
    // EventEmitter's own event, which the typed event map does not list.
    (this as EventEmitter).on('newListener', (event: string | symbol) => {
      if (event === 'output' && this.#held.length > 0) queueMicrotask(() => this.#release());
    });
  }

  write(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (bytes.length > 0) this.socket.send(encodeTerminalClientFrame({ type: 'input', data: bytes }));
  }

  resize(cols: number, rows: number): void {
    this.socket.send(encodeTerminalClientFrame({ type: 'resize', cols, rows }));
  }

  /** Detaches: the terminal keeps running in the workspace. */
  close(): Promise<void> {
    if (this.socket.readyState === this.socket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }

  onFrame(frame: TerminalAgentFrame): void {
    if (this.#held.length > 0 || this.listenerCount('output') === 0) {
      this.#held.push(frame);
      return;
    }
    this.#deliver(frame);
  }

  #release(): void {
    if (this.listenerCount('output') === 0) return;
    for (const frame of this.#held.splice(0)) this.#deliver(frame);
  }

  #deliver(frame: TerminalAgentFrame): void {
    if (frame.type === 'output') this.emit('output', frame.data);
    else if (frame.type === 'exit') this.emit('exit', frame.exitCode, frame.signal);
    else this.emit('refused', frame.code, frame.message);
  }
}

export async function openTerminal(
  target: TunnelTarget,
  workspace: string,
  options: { session: string; cols?: number; rows?: number; command?: string },
): Promise<TerminalClient> {
  const { stream } = await openTunnel(
    target,
    TUNNEL_TERMINAL_PATH,
    { workspace, session: options.session, cols: options.cols, rows: options.rows, command: options.command },
    {},
    (socket) => {
      const client = new TerminalClient(socket);
      socket.on('message', (data: RawData) => {
        try {
          client.onFrame(decodeTerminalAgentFrame(rawDataBytes(data)));
        } catch {
          socket.close(1008, 'bad terminal frame');
        }
      });
      socket.once('close', () => client.emit('close'));
      // A broken connection ends in 'close'; an unhandled 'error' would take the process down.
      socket.on('error', () => socket.terminate());
      return client;
    },
  );
  return stream;
}
