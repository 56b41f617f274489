import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveServerConfig } from '../src/config/ServerConfig';
import { cli, ensureCliBuilt, exited, killServerProcesses, startServerProcess } from './serverProcess';

beforeAll(() => ensureCliBuilt(), 60_000);

afterEach(() => killServerProcesses());

describe('warren server', () => {
  it('finishes a request that is in flight when it is told to stop, then exits cleanly', async () => {
    const { child, url } = await startServerProcess([]);
    const { port } = new URL(url);
    const body = JSON.stringify({
      username: 'first',
      email: 'first@example.com',
      password: 'correct horse battery',
    });
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let response = '';
    socket.on('data', (chunk) => {
      response += chunk;
    });
    const half = Math.floor(body.length / 2);
    socket.write(
      `POST /api/trpc/setup.createFirstUser HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, half)}`,
    );
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    // Stopping: the server no longer takes new connections.
    const refused = await new Promise<boolean>((resolve) => {
      const probe = net.connect(Number(port), '127.0.0.1');
      probe.once('connect', () => {
        probe.destroy();
        resolve(false);
      });
      probe.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    socket.write(body.slice(half));
    await new Promise((r) => socket.once('close', r));
    expect(response).toMatch(/^HTTP\/1\.1 200/);
    expect(response).toContain('"username":"first"');
    expect(await exited(child)).toBe(0);
  });

  it('serves HTTPS with the given certificate and key', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-tls-'));
    const [cert, key] = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const { url } = await startServerProcess([], { WARREN_TLS_CERT: cert, WARREN_TLS_KEY: key });
    expect(url.startsWith('https://')).toBe(true);
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get(`${url}/healthz`, { ca: fs.readFileSync(cert) }, (res) => {
          let data = '';
          res.on('data', (c) => {
            data += c;
          });
          res.on('end', () => resolve(data));
        })
        .on('error', reject);
    });
    expect(JSON.parse(body)).toEqual({ status: 'ok', database: 'sqlite' });
  });

  it('refuses to start with a clear message when the port is taken', async () => {
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-busy-'));
    const child = spawn(
      process.execPath,
      [cli, 'server', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    expect(await exited(child)).toBe(1);
    expect(stderr).toContain(`127.0.0.1:${port} is already in use`);
    expect(stderr).not.toMatch(/\n\s+at /);
    blocker.close();
  });

  it('answers unknown API paths with a JSON error, not a stack, and other paths with the web app', async () => {
    const { url } = await startServerProcess([]);
    const res = await fetch(`${url}/api/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: 'NOT_FOUND', message: 'Nothing is served at GET /api/nope.' },
    });
    // Any other path is a screen of the web app (it routes in the browser), or says how to build it.
    const page = await fetch(`${url}/workspaces/nope`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect([200, 503]).toContain(page.status);
  });
});

describe('server settings', () => {
  it('takes flags over WARREN_* variables over defaults', () => {
    const config = resolveServerConfig(
      { 'log-level': 'warn' },
      { WARREN_LOG_LEVEL: 'debug', WARREN_LISTEN: ':4000', WARREN_DATA_DIR: '/srv/warren' },
    );
    expect(config.logLevel).toBe('warn');
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 4000 });
    expect(config.dataDir).toBe('/srv/warren');
    expect(config.logFormat).toBe('text');
  });

  it.each([
    [{ listen: 'localhost' }, 'listen: "localhost" is not HOST:PORT'],
    [{ 'postgres-url': 'mysql://x' }, 'PostgreSQL URL must start with postgres://'],
    [{ 'tls-cert': '/c.pem' }, '--tls-cert and --tls-key must be given together'],
    [{ 'log-level': 'loud' }, 'logLevel'],
  ])('names the bad setting in %o', (flags, message) => {
    expect(() => resolveServerConfig(flags, {})).toThrow(message);
  });
});
