import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import {
  decodeForwardAnswer,
  encodeForwardRequest,
  FORWARD_REQUEST_BYTES,
  type ForwardAnswer,
} from '@warren/core';
import { readHeader } from '@warren/core/node';
import { freePort } from '@warren/core/test-support/freePort';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveWireguardForward } from '../../src/wireguard/serveWireguardForward';
import { WireguardGrants } from '../../src/wireguard/WireguardGrants';

// The agent's forward port over real loopback sockets (WireGuard itself is the daemon's
// wireguardNetns test): what it does with good, wrong and garbage requests.
const PEER = 'laptop-public-key';

describe('port forwards into the workspace over WireGuard (agent side)', () => {
  let now = Date.now();
  const grants = new WireguardGrants(() => now);
  const ticket = randomBytes(32);
  const tracked = new Set<net.Socket>();
  let forwardPort = 0;
  let httpPort = 0;
  let served = 0;
  let listener: net.Server;
  let web: http.Server;

  beforeAll(async () => {
    grants.addTicket(PEER, ticket, 60);
    web = http.createServer((_request, response) => {
      served++;
      response.end('from the workspace');
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    httpPort = (web.address() as net.AddressInfo).port;
    listener = net.createServer({ allowHalfOpen: true }, (socket) => {
      tracked.add(socket);
      socket.on('error', () => socket.destroy());
      void serveWireguardForward(socket, {
        admits: async (presented) => grants.hasTicket(PEER, presented),
        track: (target) => tracked.add(target),
      });
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    forwardPort = (listener.address() as net.AddressInfo).port;
  });

  afterAll(() => {
    for (const socket of tracked) socket.destroy();
    listener.close();
    web.close();
  });

  /** Connects, sends `bytes`, and returns the answer and the socket (paused after the answer). */
  async function ask(bytes: Uint8Array): Promise<{ answer: ForwardAnswer; socket: net.Socket }> {
    const socket = net.connect({ host: '127.0.0.1', port: forwardPort, allowHalfOpen: true });
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(bytes);
    return { answer: await readHeader(socket, decodeForwardAnswer, 5000), socket };
  }

  function ended(socket: net.Socket): Promise<void> {
    socket.resume();
    return new Promise((resolve) => (socket.readableEnded ? resolve() : socket.once('end', () => resolve())));
  }

  it('a granted ticket reaches the HTTP server on the workspace’s 127.0.0.1', async () => {
    const { answer, socket } = await ask(encodeForwardRequest({ ticket, port: httpPort }));
    expect(answer).toEqual({ status: 'ok', message: '' });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.end(`GET / HTTP/1.1\r\nHost: workspace\r\nConnection: close\r\n\r\n`);
    await ended(socket);
    expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nfrom the workspace$/);
  });

  it('a wrong, expired or another device’s ticket is refused and the connection closed', async () => {
    const before = served;
    const wrong = await ask(encodeForwardRequest({ ticket: randomBytes(32), port: httpPort }));
    expect(wrong.answer.status).toBe('forbidden');
    expect(wrong.answer.message).toMatch(/no valid port forward ticket/);
    await ended(wrong.socket);

    const others = randomBytes(32);
    grants.addTicket('another-device', others, 60);
    const stolen = await ask(encodeForwardRequest({ ticket: others, port: httpPort }));
    expect(stolen.answer.status).toBe('forbidden');

    const short = randomBytes(32);
    grants.addTicket(PEER, short, 1);
    now += 2000;
    const expired = await ask(encodeForwardRequest({ ticket: short, port: httpPort }));
    expect(expired.answer.status).toBe('forbidden');
    await ended(expired.socket);
    expect(served).toBe(before);
  });

  it('garbage, an unknown version or a flood gets a sentence and the close, and the port keeps serving', async () => {
    const garbage = await ask(new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n'));
    expect(garbage.answer).toMatchObject({ status: 'invalid', message: /Warren port forwards only/ });
    await ended(garbage.socket);

    const future = encodeForwardRequest({ ticket, port: httpPort });
    future[4] = 9;
    expect((await ask(future)).answer.message).toMatch(/version 9/);

    const flood = await ask(Buffer.concat([Buffer.from('WFWD\x01'), randomBytes(4 * 1024 * 1024)]));
    // The flood's ticket is noise: refused like any wrong ticket, without reading the rest.
    expect(flood.answer.status).toBe('forbidden');

    const { answer } = await ask(encodeForwardRequest({ ticket, port: httpPort }));
    expect(answer.status).toBe('ok');
  });

  it('a port nobody listens on is refused with a sentence naming it', async () => {
    const port = await freePort();
    const { answer, socket } = await ask(encodeForwardRequest({ ticket, port }));
    expect(answer).toEqual({
      status: 'refused',
      message: `Nothing listens on port ${port} in the workspace (connection refused).`,
    });
    await ended(socket);
  });

  it('a half-sent request is cut off when its client stops sending', async () => {
    const half = encodeForwardRequest({ ticket, port: httpPort }).subarray(0, FORWARD_REQUEST_BYTES - 5);
    const socket = net.connect({ host: '127.0.0.1', port: forwardPort });
    socket.on('error', () => {});
    socket.end(half);
    const answer = await readHeader(socket, decodeForwardAnswer, 5000);
    expect(answer).toMatchObject({ status: 'invalid', message: /ended before its header/ });
  });
});
