// One HTTP request over node:http, timed with performance.now(): for latency measurements where
// the client's own cost must stay small and the same for every target (fetch/undici costs more
// per request and hides when the first byte arrived).
import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** A keep-alive agent with at most `sockets` connections, Nagle off. */
export const keepAliveAgent = (sockets = 1) =>
  new http.Agent({ keepAlive: true, keepAliveMsecs: 30_000, maxSockets: sockets, noDelay: true });

/** The host, port and path of a URL, parsed once for many requests. */
export function requestTarget(url) {
  const u = new URL(url);
  if (u.protocol !== 'http:') throw new Error(`Only http:// URLs can be measured, not ${url}.`);
  return { hostname: u.hostname, port: Number(u.port) || 80, path: `${u.pathname}${u.search}` };
}

/**
 * Sends one request and resolves once its response has ended or failed; never rejects.
 * Resolves to { status, headers, headersAt, firstByteAt, endAt, bytes, tail, error }: times are
 * performance.now() values, firstByteAt is when the first body byte arrived (endAt for an empty
 * body), tail the last `tailBytes` of the body as latin1, error a short code (ECONNRESET,
 * timeout...) when the request failed. `timeoutMs` is the longest the connection may stay silent.
 */
export function timedRequest({
  agent,
  target,
  method = 'POST',
  headers = {},
  body,
  timeoutMs = 10_000,
  tailBytes = 64,
  signal,
}) {
  return new Promise((resolve) => {
    const result = {
      status: 0,
      headers: undefined,
      headersAt: undefined,
      firstByteAt: undefined,
      endAt: undefined,
      bytes: 0,
      tail: '',
      error: undefined,
    };
    let settled = false;
    const settle = (error) => {
      if (settled) return;
      settled = true;
      result.endAt = performance.now();
      if (error) result.error = error.code ?? error.message ?? String(error);
      resolve(result);
    };
    const req = http.request(
      { agent, hostname: target.hostname, port: target.port, path: target.path, method, headers, signal },
      (res) => {
        result.headersAt = performance.now();
        result.status = res.statusCode;
        result.headers = res.headers;
        res.on('data', (chunk) => {
          result.firstByteAt ??= performance.now();
          result.bytes += chunk.length;
          if (tailBytes > 0) {
            const text =
              chunk.length > tailBytes
                ? chunk.toString('latin1', chunk.length - tailBytes)
                : chunk.toString('latin1');
            result.tail = text.length >= tailBytes ? text : (result.tail + text).slice(-tailBytes);
          }
        });
        res.on('end', () => {
          result.firstByteAt ??= performance.now();
          settle();
        });
        res.on('error', settle);
        res.on('aborted', () => settle(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', settle);
    // A response that ended has settled already; anything else closing here was cut off.
    req.on('close', () => settle(Object.assign(new Error('closed'), { code: 'closed' })));
    req.end(body);
  });
}
