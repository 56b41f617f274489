import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { spliceSockets } from './spliceChannel';

// spliceSockets over real loopback sockets: client -> [proxy: accepted socket <-> dialled socket] -> server.
const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(onSocket: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true }, onSocket);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A proxy that splices each accepted connection to `targetPort`; resolves its sockets per connection. */
async function proxyTo(targetPort: number, spliced: net.Socket[][] = []): Promise<number> {
  return listen((socket) => {
    const target = net.connect({ host: '127.0.0.1', port: targetPort, allowHalfOpen: true });
    spliced.push([socket, target]);
    spliceSockets(socket, target);
  });
}

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
}

/** Sends `bytes` random bytes through a splice and ends; the server's hash must match. */
async function expectBulkArrivesWhole(bytes: number, { stallEvery = 0 } = {}): Promise<void> {
  const payload = randomBytes(bytes);
  let counted: Promise<string> = Promise.resolve('');
  const serverPort = await listen((socket) => {
    const hash = createHash('sha256');
    let chunks = 0;
    counted = new Promise((resolve) => {
      socket.on('data', (chunk) => {
        hash.update(chunk);
        if (stallEvery && ++chunks % stallEvery === 0) {
          socket.pause();
          setTimeout(() => socket.resume(), 2);
        }
      });
      socket.on('end', () => {
        resolve(hash.digest('hex'));
        socket.end();
      });
    });
  });
  const client = net.connect({ host: '127.0.0.1', port: await proxyTo(serverPort) });
  client.end(payload);
  await closed(client);
  expect(await counted).toBe(createHash('sha256').update(payload).digest('hex'));
}

describe('spliceSockets', () => {
  it('a client that shuts down its sending side still gets the whole answer, and both sockets close', async () => {
    const answer = randomBytes(3 * 1024 * 1024);
    // Answers only once the request is complete (its end arrived), as `nc -N` style clients expect.
    const serverPort = await listen((socket) => {
      const request: Buffer[] = [];
      socket.on('data', (chunk) => request.push(chunk));
      socket.on('end', () => socket.end(Buffer.concat([Buffer.concat(request), answer])));
    });
    const spliced: net.Socket[][] = [];
    const port = await proxyTo(serverPort, spliced);
    const client = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const received: Buffer[] = [];
    client.on('data', (chunk) => received.push(chunk));
    client.end('hello');
    await new Promise((resolve) => client.once('end', resolve));
    client.destroy();
    const body = Buffer.concat(received);
    expect(body.subarray(0, 5).toString()).toBe('hello');
    expect(createHash('sha256').update(body.subarray(5)).digest('hex')).toBe(
      createHash('sha256').update(answer).digest('hex'),
    );
    await Promise.all((spliced[0] ?? []).map(closed));
  });

  it('bulk bytes arrive whole when the sender ends right after its last write', async () => {
    await expectBulkArrivesWhole(16 * 1024 * 1024);
  });

  it('a bulk stream into a reader that keeps stalling arrives whole, and small messages still pass at once', async () => {
    // The reader stalls every few chunks, so the splice meets backpressure while it rests between gulps.
    await expectBulkArrivesWhole(12 * 1024 * 1024, { stallEvery: 4 });

    // An echo server behind the splice: 50 one-line round trips, each answered before the next.
    const echoPort = await proxyTo(await listen((socket) => socket.pipe(socket)));
    const chat = net.connect({ host: '127.0.0.1', port: echoPort, noDelay: true });
    for (let i = 0; i < 50; i++) {
      const line = `line ${i}\n`;
      const echoed = new Promise<string>((resolve) =>
        chat.once('data', (chunk) => resolve(chunk.toString())),
      );
      chat.write(line);
      expect(await echoed).toBe(line);
    }
    chat.destroy();
  });

  it('a reset on one side tears the other down at once', async () => {
    let serverSide: net.Socket | undefined;
    const serverPort = await listen((socket) => {
      serverSide = socket;
      socket.resume();
    });
    const spliced: net.Socket[][] = [];
    const port = await proxyTo(serverPort, spliced);
    const client = net.connect({ host: '127.0.0.1', port });
    client.on('error', () => {});
    client.write('x');
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const poll = () =>
        serverSide
          ? resolve()
          : Date.now() - started > 5000
            ? reject(new Error('no server side'))
            : setTimeout(poll, 10);
      poll();
    });
    serverSide?.resetAndDestroy();
    await closed(client);
    await Promise.all((spliced[0] ?? []).map(closed));
  });
});
