// What every loopback row of the tunnel benchmark measures, the same way for each path: a bulk
// transfer with core's tcpTransfer.mjs (the sender and receiver the WireGuard rows use too, each
// in its own process, the bytes checked by SHA-256 on both ends) and the time to the first byte
// through a new connection, against a greeter that writes one byte as soon as it accepts.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { trackChild } from '../lib/cleanup.mjs';
import { ROOT } from '../lib/daemon.mjs';

const TRANSFER_SCRIPT = path.join(ROOT, 'packages', 'core', 'test-support', 'tcpTransfer.mjs');
const HOST = '127.0.0.1';

/** A loopback port that was free a moment ago (listen on 0, close): for servers that need a fixed one. */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, resolve);
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Spawns `node tcpTransfer.mjs ...args`; resolves each JSON line it prints, in order, through `next()`. */
function transferProcess(args, what) {
  const child = spawn(process.execPath, [TRANSFER_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = trackChild(child);
  const lines = [];
  const waiting = [];
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
    for (let newline = out.indexOf('\n'); newline !== -1; newline = out.indexOf('\n')) {
      lines.push(JSON.parse(out.slice(0, newline)));
      out = out.slice(newline + 1);
      while (lines.length && waiting.length) waiting.shift().resolve(lines.shift());
    }
  });
  child.stderr.on('data', (chunk) => {
    err = (err + chunk).slice(-4096);
  });
  // 'close', not 'exit': stdout may still hold the last line at exit.
  child.once('close', (code, signal) => {
    for (const w of waiting.splice(0))
      w.reject(new Error(`${what} exited (${signal ?? `code ${code}`}) before reporting. ${err.trim()}`));
  });
  return {
    next: () =>
      lines.length
        ? Promise.resolve(lines.shift())
        : new Promise((resolve, reject) => waiting.push({ resolve, reject })),
    kill: () => child.kill('SIGKILL'),
    exited,
  };
}

/**
 * Sends for `seconds` from a source connecting to `connectPort` to a sink listening on `sinkPort`
 * (the same port for the direct row; a forward's local port otherwise). Throws unless the sink got
 * every byte the source sent, unchanged. Resolves to { mbps, bytes, ms } as the sink saw them.
 */
export async function bulkTransfer({ sinkPort, connectPort, seconds, timeoutMs = 60_000 }) {
  const sink = transferProcess(['sink', HOST, String(sinkPort)], 'the TCP sink');
  let source;
  const timer = setTimeout(() => {
    sink.kill();
    source?.kill();
  }, timeoutMs);
  try {
    await sink.next(); // {listening: true}
    source = transferProcess(['source', HOST, String(connectPort), '0', String(seconds)], 'the TCP source');
    const [received, sent] = await Promise.all([sink.next(), source.next()]);
    if (received.bytes !== sent.bytes || received.sha256 !== sent.sha256)
      throw new Error(
        `The sink received ${received.bytes} bytes (sha256 ${received.sha256.slice(0, 12)}…), not the ${sent.bytes} sent (${sent.sha256.slice(0, 12)}…).`,
      );
    return { mbps: received.bytes / 1e6 / (received.ms / 1000), bytes: received.bytes, ms: received.ms };
  } finally {
    clearTimeout(timer);
    sink.kill();
    source?.kill();
  }
}

/** A loopback server that writes one byte to every connection as it accepts it; { port, close }. */
export async function startGreeter() {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.setNoDelay(true);
    socket.end('!');
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, resolve);
  });
  return {
    port: server.address().port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(resolve);
      }),
  };
}

/** Milliseconds from connect() to `port` until the greeter's byte arrives through it, one connection. */
export function timeToFirstByte(port, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const socket = net.connect({ port, host: HOST, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`No byte came through port ${port} within ${timeoutMs / 1000} s.`));
    }, timeoutMs);
    socket.once('data', () => {
      const ms = performance.now() - start;
      clearTimeout(timer);
      socket.destroy();
      resolve(ms);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`A connection through port ${port} failed: ${error.message}.`));
    });
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new Error(`A connection through port ${port} closed before its first byte.`));
    });
  });
}

/**
 * `warmup` discarded then `count` measured runs of `once()` (resolving to milliseconds), one at a
 * time; returns the measured samples sorted ascending.
 */
export async function sequentialSamples(once, { warmup, count }) {
  const samples = new Float64Array(count);
  for (let i = 0; i < warmup + count; i++) {
    const ms = await once();
    if (i >= warmup) samples[i - warmup] = ms;
  }
  return samples.sort();
}
