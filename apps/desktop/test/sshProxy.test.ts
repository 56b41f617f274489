import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLog } from '../src/main/log/desktopLog';
import { SshProxyServer } from '../src/main/ssh/SshProxyServer';
import { PROXY_SCRIPT } from './support/desktopWorld';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function runProxy(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [PROXY_SCRIPT, ...args],
      { timeout: 10_000 },
      (error, _out, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stderr }),
    );
    child.stdin?.end();
  });
}

async function proxyServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-desktop-proxy-'));
  dirs.push(dir);
  const server = new SshProxyServer({
    socketPath: path.join(dir, 'proxy.sock'),
    keyFile: path.join(dir, 'proxy.key'),
    knownHostsFile: path.join(dir, 'known_hosts'),
    publicKey: () => 'ssh-ed25519 AAAA',
    target: () => undefined,
    log: silentLog,
  });
  await server.start();
  const args = (keyFile = path.join(dir, 'proxy.key')) => [
    '--socket',
    path.join(dir, 'proxy.sock'),
    '--key-file',
    keyFile,
    '--workspace',
    'dev',
    '--alias',
    'warren.dev',
  ];
  return { dir, server, args };
}

describe('the SSH ProxyCommand', () => {
  it('tells OpenSSH why it cannot connect: app not running, not signed in, wrong key', async () => {
    const { dir, server, args } = await proxyServer();
    try {
      expect(fs.statSync(path.join(dir, 'proxy.key')).mode & 0o777).toBe(0o600);
      const signedOut = await runProxy(args());
      expect(signedOut).toEqual({
        code: 1,
        stderr: 'warren: Warren desktop is not signed in to a server.\n',
      });

      const forged = path.join(dir, 'forged.key');
      fs.writeFileSync(forged, 'a'.repeat(64));
      const wrongKey = await runProxy(args(forged));
      expect(wrongKey.stderr).toMatch(/key does not match this Warren desktop/);
      expect(wrongKey.code).toBe(1);
    } finally {
      await server.close();
    }
    const stopped = await runProxy(args());
    expect(stopped).toEqual({
      code: 1,
      stderr: 'warren: Warren desktop is not running (start it, then try again).\n',
    });
  });
});
