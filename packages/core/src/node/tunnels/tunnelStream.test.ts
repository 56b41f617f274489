import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocket as WebSocketClient, WebSocketServer } from 'ws';
import { type TunnelStreamOptions, tunnelStream } from './tunnelStream';

// tunnelStream over a real loopback WebSocket: the server end sends, the client end (as the agent
// and the CLI hold it) reads through tunnelStream, which rests between small reads under bulk load.
const servers: WebSocketServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function pair(options: TunnelStreamOptions = {}): Promise<{ server: WebSocket; client: Duplex }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(wss);
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const socket = new WebSocketClient(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { server: await accepted, client: tunnelStream(socket, options) };
}

describe('tunnelStream', () => {
  it('a bulk stream of small frames into a reader that keeps stalling arrives whole and in order', async () => {
    const { server, client } = await pair();
    const payload = randomBytes(12 * 1024 * 1024);
    const hash = createHash('sha256');
    let chunks = 0;
    let bytes = 0;
    // The stream ends with its socket (destroyed, as SSH above it hears at once): count the bytes.
    const received = new Promise<string>((resolve) => {
      client.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        bytes += chunk.length;
        if (bytes >= payload.length) resolve(hash.digest('hex'));
        // ws's own backpressure pause meets the rests between gulps.
        if (++chunks % 5 === 0) {
          client.pause();
          setTimeout(() => client.resume(), 2);
        }
      });
    });
    // 8 KiB frames: small reads under bulk load, which is when the reader rests.
    for (let at = 0; at < payload.length; at += 8192) {
      server.send(payload.subarray(at, at + 8192));
      // A frame per turn of the event loop, so the reader (in this same process) meets small reads.
      await new Promise((resolve) => setImmediate(resolve));
      if (server.bufferedAmount > 4 * 1024 * 1024)
        while (server.bufferedAmount > 1024 * 1024) await new Promise((r) => setTimeout(r, 1));
    }
    expect(await received).toBe(createHash('sha256').update(payload).digest('hex'));
    expect(bytes).toBe(payload.length);
    server.close();
  });

  it('small messages pass at once after a bulk burst', async () => {
    const { server, client } = await pair();
    server.on('message', (data: Buffer) => server.send(data));
    client.write(randomBytes(4 * 1024 * 1024));
    let echoed = 0;
    await new Promise<void>((resolve) => {
      client.on('data', (chunk: Buffer) => {
        echoed += chunk.length;
        if (echoed >= 4 * 1024 * 1024) resolve();
      });
    });
    client.removeAllListeners('data');
    for (let i = 0; i < 50; i++) {
      const line = Buffer.from(`line ${i}\n`);
      const back = new Promise<Buffer>((resolve) => client.once('data', resolve));
      client.write(line);
      expect((await back).toString()).toBe(line.toString());
    }
    client.destroy();
  });

  it('with onText, text frames go there and only binary frames are bytes, in order', async () => {
    const texts: string[] = [];
    const { server, client } = await pair({ onText: (text) => texts.push(text) });
    const bytes: Buffer[] = [];
    const got = new Promise<void>((resolve) =>
      client.on('data', (chunk: Buffer) => {
        bytes.push(chunk);
        if (Buffer.concat(bytes).length >= 6) resolve();
      }),
    );
    server.send(Buffer.from('abc'), { binary: true });
    server.send('{"type":"stream"}', { binary: false });
    server.send(Buffer.from('def'), { binary: true });
    await got;
    expect(Buffer.concat(bytes).toString()).toBe('abcdef');
    expect(texts).toEqual(['{"type":"stream"}']);
    client.destroy();
  });
});
