// A TCP transfer between two processes, run inside network namespaces by tests and benches
// (plain JS so `ip netns exec ... node tcpTransfer.mjs` needs no build step).
//   node tcpTransfer.mjs sink HOST PORT            accept one connection, count and hash its bytes
//   node tcpTransfer.mjs source HOST PORT BYTES    send BYTES (random but seeded) then close
//   node tcpTransfer.mjs source HOST PORT 0 SECS   send for SECS seconds then close
// Each side prints one JSON line when done: { bytes, sha256, ms } (sink: ms from first byte to end;
// source: ms from connect() to close, and connectMs, the time until the connection was up).
// The sink prints {"listening":true} first, so a caller knows when to start the source.
import { createHash } from 'node:crypto';
import net from 'node:net';

const [mode, host, portText, bytesText = '0', secondsText = '0'] = process.argv.slice(2);
const port = Number(portText);
const BLOCK = Buffer.alloc(256 * 1024);
for (let i = 0; i < BLOCK.length; i++) BLOCK[i] = (i * 2654435761) >>> 24; // fixed, not compressible by a pattern

function report(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (mode === 'sink') {
  const server = net.createServer((socket) => {
    const hash = createHash('sha256');
    let bytes = 0;
    let first = 0;
    socket.on('data', (chunk) => {
      if (bytes === 0) first = performance.now();
      bytes += chunk.length;
      hash.update(chunk);
    });
    socket.on('end', () => {
      report({ bytes, sha256: hash.digest('hex'), ms: performance.now() - first });
      socket.end();
      server.close();
    });
  });
  server.listen(port, host, () => report({ listening: true }));
} else if (mode === 'source') {
  const total = Number(bytesText);
  const deadline = performance.now() + Number(secondsText) * 1000;
  const hash = createHash('sha256');
  const started = performance.now();
  let sent = 0;
  let connectMs = 0;
  const socket = net.connect(port, host, () => {
    connectMs = performance.now() - started;
    const pump = () => {
      for (;;) {
        const done = total > 0 ? sent >= total : performance.now() >= deadline;
        if (done) return socket.end();
        const chunk = total > 0 ? BLOCK.subarray(0, Math.min(BLOCK.length, total - sent)) : BLOCK;
        sent += chunk.length;
        hash.update(chunk);
        if (!socket.write(chunk)) return socket.once('drain', pump);
      }
    };
    pump();
  });
  socket.on('close', () =>
    report({ bytes: sent, sha256: hash.digest('hex'), ms: performance.now() - started, connectMs }),
  );
  socket.resume();
} else {
  process.stderr.write('usage: tcpTransfer.mjs sink|source HOST PORT [BYTES] [SECONDS]\n');
  process.exit(2);
}
