import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import Fastify from 'fastify';
import { afterEach, expect, test } from 'vitest';
import { webPlugin } from './webPlugin';

const apps: ReturnType<typeof Fastify>[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

/** A daemon-shaped server: an API route and the JSON 404 beside the web plugin. */
async function serve(dir: string, logLines?: string[]) {
  const app = Fastify(
    logLines ? { logger: { level: 'info', stream: { write: (line: string) => logLines.push(line) } } } : {},
  );
  apps.push(app);
  app.get('/api/trpc/setup.status', async () => ({ ok: true }));
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: `Nothing is served at ${request.url}.` } }),
  );
  await app.register(webPlugin, { dir });
  return app;
}

function builtUi(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-web-'));
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
  const js = 'console.log("warren");'.repeat(50);
  fs.writeFileSync(path.join(dir, 'assets', 'app-ABC123.js'), js);
  fs.writeFileSync(path.join(dir, 'assets', 'app-ABC123.js.gz'), zlib.gzipSync(js));
  fs.writeFileSync(path.join(dir, 'assets', 'app-ABC123.css'), 'body{}');
  return dir;
}

test('app routes get index.html, never cached, so a reload on a deep link works', async () => {
  const app = await serve(builtUi());
  for (const url of ['/', '/workspaces/alice/dev', '/admin/usage?days=7']) {
    const res = await app.inject({ url });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.body).toContain('<div id="root">');
  }
  const etag = (await app.inject({ url: '/' })).headers.etag as string;
  expect((await app.inject({ url: '/', headers: { 'if-none-match': etag } })).statusCode).toBe(304);
});

test('hashed assets are cached for a year with their content type, gzip when the browser accepts it', async () => {
  const app = await serve(builtUi());
  const plain = await app.inject({ url: '/assets/app-ABC123.js' });
  expect(plain.statusCode).toBe(200);
  expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
  expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  expect(plain.headers['content-encoding']).toBeUndefined();
  const gz = await app.inject({ url: '/assets/app-ABC123.js', headers: { 'accept-encoding': 'gzip, br' } });
  expect(gz.headers['content-encoding']).toBe('gzip');
  expect(zlib.gunzipSync(gz.rawPayload).toString()).toBe(plain.body);
  const css = await app.inject({ url: '/assets/app-ABC123.css' });
  expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
});

test('missing assets, unknown API paths and escapes answer the JSON 404, not the page', async () => {
  const app = await serve(builtUi());
  for (const url of ['/assets/missing-1.js', '/assets/..%2Findex.html', '/api/v2/nothing', '/favicon.ico']) {
    const res = await app.inject({ url });
    expect(res.statusCode, url).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  }
  expect((await app.inject({ url: '/api/trpc/setup.status' })).json()).toEqual({ ok: true });
});

test('a server whose UI is not built says so and how to build it, without naming its folders', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-web-empty-'));
  const logLines: string[] = [];
  const app = await serve(dir, logLines);
  const res = await app.inject({ url: '/workspaces' });
  expect(res.statusCode).toBe(503);
  expect(res.body).toContain('pnpm --filter @warren/ui build');
  expect(res.body).not.toContain(dir);
  expect(res.body).not.toContain(os.tmpdir());
  await app.inject({ url: '/' });
  // The operator learns the folder once, at startup, not from every request.
  expect(logLines.filter((line) => line.includes(dir))).toHaveLength(1);
  expect(logLines.filter((line) => line.includes('not built'))).toHaveLength(1);
});
