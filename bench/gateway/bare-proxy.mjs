// The gateway benchmark's reference hop: the least a Node reverse proxy does for a model call,
// with the gateway's own transport pieces and nothing of Warren's. node:http in, the daemon's
// undici (same version, same Agent settings) out, the upstream key put in place of the client's,
// the answer streamed back chunk by chunk (an event stream's head flushed at once, as the gateway
// does). No authentication, policy, metering or records. Compare its added time with the
// gateway's to see what Warren's own work costs on top of one more hop.
// Usage: node bare-proxy.mjs <upstream origin + base path> <upstream key>. Prints `listening <url>`;
// exits when run.mjs (its IPC parent) goes away.
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DAEMON_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'apps', 'daemon');
const { Agent } = createRequire(path.join(DAEMON_DIR, 'package.json'))('undici');

const [upstream, key] = process.argv.slice(2);
if (!upstream || !key) {
  process.stderr.write('usage: node bare-proxy.mjs <upstream base URL> <upstream key>\n');
  process.exit(2);
}
const { origin, pathname } = new URL(upstream);
const basePath = pathname.replace(/\/+$/, '');
const PREFIX = '/openai/v1';
const SKIP = new Set([
  'host',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
  'authorization',
]);
const agent = new Agent({ keepAliveTimeout: 30_000, connect: { timeout: 30_000 } });

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    const headers = { authorization: `Bearer ${key}`, 'accept-encoding': 'identity' };
    for (const name in req.headers) if (!SKIP.has(name)) headers[name] = req.headers[name];
    const abort = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    let response;
    try {
      response = await agent.request({
        origin,
        path: basePath + (req.url.startsWith(PREFIX) ? req.url.slice(PREFIX.length) : req.url),
        method: req.method,
        headers,
        body: Buffer.concat(chunks),
        signal: abort.signal,
      });
    } catch (error) {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      return res.end(String(error.code ?? error.message));
    }
    const out = {};
    for (const name in response.headers) if (!SKIP.has(name)) out[name] = response.headers[name];
    res.writeHead(response.statusCode, out);
    if (String(response.headers['content-type']).startsWith('text/event-stream')) res.flushHeaders();
    const body = response.body;
    body.on('data', (chunk) => {
      if (!res.write(chunk)) {
        body.pause();
        res.once('drain', () => body.resume());
      }
    });
    body.once('end', () => res.end());
    body.once('error', () => res.destroy());
  });
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening http://127.0.0.1:${server.address().port}\n`);
});
process.on('disconnect', () => process.exit(0));
