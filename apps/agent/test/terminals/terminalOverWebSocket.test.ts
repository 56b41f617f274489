import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  decodeTerminalAgentFrame,
  encodeTerminalClientFrame,
  type TerminalAgentFrame,
  terminalAttachSchema,
} from '@warren/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { serveTerminalStream } from '../../src/streams/terminalStream';
import { TerminalSessions } from '../../src/terminals/TerminalSessions';
import { testAddon } from './terminalTestKit';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-terminal-socket-'));
const terminals = new TerminalSessions({ addon: testAddon, defaultCwd: home, shell: '/bin/sh' });
let server: WebSocketServer;
/** The agent's end of each connection, by terminal id. */
const agentSide = new Map<string, WebSocket>();
let port: number;

// The agent's stream transport (streams/terminalStream.ts) over a real WebSocket; the attach
// request rides in the URL here, where the daemon's relay hands it over in its own frame.
beforeAll(async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (socket, req) => {
    const query = Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams);
    const request = terminalAttachSchema.parse({
      ...query,
      cols: Number(query.cols ?? 80),
      rows: Number(query.rows ?? 24),
    });
    agentSide.set(request.id, socket);
    serveTerminalStream(socket, terminals, {
      session: request.id,
      cols: request.cols,
      rows: request.rows,
      command: request.command,
    });
  });
  await new Promise((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  terminals.closeAll();
  server.close();
});

/** A terminal client over a real WebSocket, keeping every frame the agent sent. */
class Client {
  readonly frames: TerminalAgentFrame[] = [];
  readonly socket: WebSocket;
  closeCode: number | undefined;
  readonly opened: Promise<void>;

  constructor(query: string) {
    this.socket = new WebSocket(`ws://127.0.0.1:${port}/?${query}`);
    this.socket.on('message', (data) => this.frames.push(decodeTerminalAgentFrame(data as Buffer)));
    this.socket.on('close', (code) => {
      this.closeCode = code;
    });
    this.opened = new Promise((resolve) => this.socket.once('open', () => resolve()));
  }

  get output(): string {
    return Buffer.concat(this.frames.flatMap((f) => (f.type === 'output' ? [f.data] : []))).toString();
  }

  send(bytes: Uint8Array): void {
    this.socket.send(bytes);
  }

  async until(ready: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!ready()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.output.slice(-300))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const input = (text: string) => encodeTerminalClientFrame({ type: 'input', data: Buffer.from(text) });

describe('a terminal over a WebSocket', () => {
  it('carries keystrokes, resizes and output, survives the socket closing, and reports the exit', async () => {
    const first = new Client('id=ws-1&cols=90&rows=20');
    await first.opened;
    first.send(input('stty size\n')); // may arrive before the terminal has started: kept, not lost
    await first.until(() => first.output.includes('20 90'), 'the first size');
    first.send(encodeTerminalClientFrame({ type: 'resize', cols: 100, rows: 30 }));
    first.send(input('stty size; echo marker-$((40+2))\n'));
    await first.until(() => first.output.includes('marker-42'), 'the marker');
    expect(first.output).toContain('30 100');
    first.socket.close();

    const second = new Client('id=ws-1&cols=100&rows=30');
    await second.until(() => second.output.includes('marker-42'), 'the replay');
    second.send(input('exit 9\n'));
    await second.until(() => second.closeCode !== undefined, 'the close');
    expect(second.frames.at(-1)).toEqual({ type: 'exit', exitCode: 9, signal: null });
    expect(second.closeCode).toBe(1000);
  });

  it('holds the process back while the client reads slowly, then delivers every byte', async () => {
    const client = new Client(`id=ws-flood&command=${encodeURIComponent('yes | head -n 2000000')}`);
    await client.opened;
    client.socket.pause(); // stop reading: the TCP window and the agent's send buffer fill up
    await new Promise((r) => setTimeout(r, 1500));
    // Unthrottled, 6 MB of `yes` is done in under a second and sits in the agent's send buffer;
    // throttled, the process waits for the reader and the buffer stays near the high-water mark.
    expect(terminals.list().find((s) => s.id === 'ws-flood')?.exited).toBe(false);
    expect(agentSide.get('ws-flood')?.bufferedAmount).toBeLessThan(2 * 1024 * 1024);
    client.socket.resume();
    await client.until(() => client.closeCode !== undefined, 'the exit');
    expect(client.frames.at(-1)).toEqual({ type: 'exit', exitCode: 0, signal: null });
    expect(client.output.length).toBe(6_000_000);
  });

  it('answers a bad frame with an error frame and closes, leaving the terminal running', async () => {
    const client = new Client('id=ws-2');
    await client.opened;
    client.send(Uint8Array.from([0x80, 1, 2])); // an output frame, which only the agent sends
    await client.until(() => client.closeCode !== undefined, 'the close');
    expect(client.frames.at(-1)).toEqual({
      type: 'error',
      code: 'INVALID_INPUT',
      message: 'Terminal frame refused: type 0x80 is not a frame a terminal client sends.',
    });
    expect(client.closeCode).toBe(1008);
    expect(terminals.list().some((s) => s.id === 'ws-2' && !s.exited)).toBe(true);
  });
});
