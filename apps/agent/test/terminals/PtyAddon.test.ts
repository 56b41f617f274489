import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TERMINAL_ADDON_SHA256_HEADER, WarrenError } from '@warren/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentAddonTarget, loadPtyAddon } from '../../src/terminals/PtyAddon';
import { daemonUrlFromConnectUrl, PtyAddonSource } from '../../src/terminals/PtyAddonSource';
import { builtAddonPath } from './terminalTestKit';

const here = currentAddonTarget();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-pty-addon-'));

function refusal(run: () => unknown): WarrenError {
  try {
    run();
  } catch (error) {
    if (error instanceof WarrenError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('loading the terminal addon', () => {
  it('refuses a build for another Node ABI before loading it, and says how to fix it', () => {
    const error = refusal(() => loadPtyAddon(builtAddonPath(), { ...here, abi: '108' }));
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toBe(
      `Terminals are unavailable: the terminal addon was built for ${here.platform}-${here.arch} with Node ABI 108, but this agent runs on ${here.platform}-${here.arch} with Node ABI ${here.abi} (Node ${process.versions.node}). Run the workspace with the same Node.js version as the Warren server.`,
    );
  });

  it('refuses a build for another platform', () => {
    const error = refusal(() =>
      loadPtyAddon(builtAddonPath(), { ...here, platform: 'darwin', arch: 'arm64' }),
    );
    expect(error.message).toMatch(/built for darwin-arm64 with Node ABI/);
  });

  it('names the file when it is not a loadable addon', () => {
    const junk = path.join(tmp, 'junk.node');
    fs.writeFileSync(junk, 'not an ELF file');
    const error = refusal(() => loadPtyAddon(junk, here));
    expect(error.message).toMatch(
      new RegExp(`^Terminals are unavailable: the terminal addon ${junk} could not be loaded \\(.+\\)\\.$`),
    );
  });

  it('loads the real addon', () => {
    const addon = loadPtyAddon(builtAddonPath(), here);
    expect(typeof addon.fork).toBe('function');
  });
});

describe('downloading the terminal addon', () => {
  const addonBytes = fs.readFileSync(builtAddonPath());
  const sha = createHash('sha256').update(addonBytes).digest('hex');
  let server: http.Server;
  let base: URL;
  const requests: { url: string; ifNoneMatch?: string }[] = [];
  let respond: (res: http.ServerResponse, ifNoneMatch?: string) => void = () => {};

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const ifNoneMatch = req.headers['if-none-match'];
      requests.push({ url: req.url ?? '', ifNoneMatch });
      respond(res, ifNoneMatch);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/warren/`);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const serveAddon = (res: http.ServerResponse, ifNoneMatch?: string) => {
    if (ifNoneMatch === `"${sha}"`) return res.writeHead(304).end();
    res.writeHead(200, { [TERMINAL_ADDON_SHA256_HEADER]: sha, etag: `"${sha}"` }).end(addonBytes);
  };

  it('downloads the build for this agent under the daemon base path, then reuses it while current', async () => {
    respond = serveAddon;
    const cacheDir = path.join(tmp, 'cache-reuse');
    const addon = await new PtyAddonSource({ daemonUrl: base, cacheDir }).load();
    expect(typeof addon.resize).toBe('function');
    expect(requests.at(-1)).toEqual({
      url: `/warren/bin/warren-agent-pty/${here.platform}-${here.arch}-abi${here.abi}.node`,
      ifNoneMatch: undefined,
    });
    expect((fs.statSync(cacheDir).mode & 0o777).toString(8)).toBe('700');

    // A new agent process asks whether its copy is current and loads it on 304.
    await new PtyAddonSource({ daemonUrl: base, cacheDir }).load();
    expect(requests.at(-1)?.ifNoneMatch).toBe(`"${sha}"`);
  });

  it('refuses a download whose SHA-256 does not match the header', async () => {
    respond = (res) => {
      const damaged = Buffer.from(addonBytes);
      damaged[100] = (damaged[100] ?? 0) ^ 0xff;
      res.writeHead(200, { [TERMINAL_ADDON_SHA256_HEADER]: sha }).end(damaged);
    };
    const source = new PtyAddonSource({ daemonUrl: base, cacheDir: path.join(tmp, 'cache-damaged') });
    await expect(source.load()).rejects.toThrow(/is damaged \(its SHA-256 does not match/);
  });

  it("passes on the server's reason when it has no build for this agent, and retries on the next use", async () => {
    respond = (res) =>
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'It has one for plan9-mips only.' } }));
    const source = new PtyAddonSource({ daemonUrl: base, cacheDir: path.join(tmp, 'cache-404') });
    await expect(source.load()).rejects.toThrow(
      `Terminals are unavailable: the server has no terminal addon for ${here.platform}-${here.arch} with Node ABI ${here.abi}. It has one for plan9-mips only.`,
    );
    respond = serveAddon;
    await expect(source.load()).resolves.toBeDefined();
  });

  it('says so when the daemon cannot be reached', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const source = new PtyAddonSource({
      daemonUrl: new URL(`http://127.0.0.1:${port}`),
      cacheDir: path.join(tmp, 'cache-down'),
    });
    await expect(source.load()).rejects.toThrow(
      `Terminals are unavailable: the terminal addon could not be downloaded from http://127.0.0.1:${port} (ECONNREFUSED).`,
    );
  });

  it('will not use a cache folder other users can write to', async () => {
    const shared = path.join(tmp, 'cache-shared');
    fs.mkdirSync(shared, { mode: 0o777 });
    fs.chmodSync(shared, 0o777);
    const source = new PtyAddonSource({ daemonUrl: base, cacheDir: shared });
    await expect(source.load()).rejects.toThrow(/is not a private folder of this user/);
  });

  it('finds the daemon from the agent WebSocket URL, base path included', () => {
    expect(daemonUrlFromConnectUrl(new URL('wss://w.example.com/base/api/v2/agents/connect')).href).toBe(
      'https://w.example.com/base/',
    );
    expect(daemonUrlFromConnectUrl(new URL('ws://127.0.0.1:3000/api/v2/agents/connect')).href).toBe(
      'http://127.0.0.1:3000/',
    );
  });
});
