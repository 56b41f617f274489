import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { contentTypeOf, isAppRoute, pickEncoding, resolveWebDir } from './webFiles';

export interface WebOptions {
  /** The built UI (index.html and assets/); default: WARREN_UI_DIR, else packages/ui/dist. */
  dir?: string;
}

/** Hashed names change with their content, so browsers may keep them for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/**
 * The page may run only its own scripts and talk only to this server. Styles may be inline:
 * the terminal (xterm.js) writes its colours and font metrics into a <style> element at run
 * time, and without them its text is invisible; inline CSS cannot run code.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

// Names no path: the page is public, and the server's folders are nobody's business but the
// operator's, who finds the folder in the log line written at startup.
const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Warren: the web UI is not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>The Warren web UI is not built on this server</h1>
<p>The server is running and its API answers, but it found no built web UI in its UI folder
(the server's log names the folder at startup).</p>
<p>Build it with <code>pnpm --filter @warren/ui build</code> (or <code>pnpm build</code> at the repository root),
or point <code>WARREN_UI_DIR</code> at a built copy, then reload this page. No restart is needed.</p>
</body></html>
`;

/**
 * Serves the web UI at `/`: hashed assets with a long cache, index.html (never cached) for
 * every app route so the browser's router takes over, and a clear page when the UI is not built.
 */
export async function webPlugin(app: FastifyInstance, options: WebOptions = {}): Promise<void> {
  const dir = options.dir ?? resolveWebDir();
  const assetsDir = path.join(dir, 'assets');
  // Once, at startup: a request for a page that is not built must not write a log line each time.
  const built = await fs.stat(path.join(dir, 'index.html')).then(
    (s) => s.isFile(),
    () => false,
  );
  if (built) app.log.info({ dir }, 'serving the web UI');
  else app.log.warn({ dir }, 'the web UI is not built: / answers with a page that says how to build it');

  async function sendIndex(request: FastifyRequest, reply: FastifyReply) {
    let html: Buffer;
    try {
      html = await fs.readFile(path.join(dir, 'index.html'));
    } catch {
      return reply
        .code(503)
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(NOT_BUILT_PAGE);
    }
    const etag = `"${createHash('sha256').update(html).digest('base64url').slice(0, 27)}"`;
    reply
      .header('cache-control', 'no-cache')
      .header('etag', etag)
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .header('x-frame-options', 'DENY');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.header('content-type', 'text/html; charset=utf-8').send(html);
  }

  app.get('/assets/*', async (request, reply) => {
    const name = (request.params as { '*': string })['*'];
    // Only plain file names: the build writes assets/ flat, and nothing may climb out of it.
    if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.')) return reply.callNotFound();
    const file = path.join(assetsDir, name);
    const [raw, br, gzip] = await Promise.all(
      [file, `${file}.br`, `${file}.gz`].map((f) =>
        fs.stat(f).then(
          (s) => (s.isFile() ? s : undefined),
          () => undefined,
        ),
      ),
    );
    if (!raw) return reply.callNotFound();
    const encoding = pickEncoding(request.headers['accept-encoding'], {
      br: Boolean(br),
      gzip: Boolean(gzip),
    });
    const chosen = encoding === 'br' ? br : encoding === 'gzip' ? gzip : raw;
    reply
      .header('content-type', contentTypeOf(name))
      .header('cache-control', IMMUTABLE)
      .header('x-content-type-options', 'nosniff')
      .header('vary', 'accept-encoding')
      .header('content-length', chosen?.size ?? raw.size);
    if (encoding) reply.header('content-encoding', encoding);
    const source = encoding === 'br' ? `${file}.br` : encoding === 'gzip' ? `${file}.gz` : file;
    return reply.send(createReadStream(source));
  });

  app.get('/', sendIndex);
  // Lowest priority in Fastify's router: every real route wins; unknown API paths keep their JSON 404.
  app.get('/*', async (request, reply) => {
    const urlPath = request.url.split('?')[0] ?? '/';
    if (!isAppRoute(urlPath)) return reply.callNotFound();
    return sendIndex(request, reply);
  });
}
