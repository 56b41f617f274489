import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveTerminalAddonDir } from '../src/agents/terminalAddonRoute';
import { ensureDockerd, ensureTestImage } from './docker/testImage';
import { startTestDaemon, type TestDaemon } from './harness';

const run = promisify(execFile);
const agentDir = path.resolve(import.meta.dirname, '..', '..', 'agent');
const bundle = path.join(agentDir, 'dist', 'warren-agent.mjs');
const ownKey = `${process.platform}-${process.arch}-abi${process.versions.modules}`;
const addonFile = path.join(resolveTerminalAddonDir() as string, 'pty.node');
const addonSha = createHash('sha256').update(fs.readFileSync(addonFile)).digest('hex');

let t: TestDaemon;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-terminal-addon-'));

beforeAll(async () => {
  execFileSync(process.execPath, ['build.mjs', '--if-stale'], { cwd: agentDir });
  t = await startTestDaemon('sqlite');
}, 120_000);
afterAll(async () => {
  await t?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Runs the real agent bundle's terminal check against the test daemon. */
async function terminalCheck(command: string, cacheDir: string, daemonUrl = t.url) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bundle, 'terminal-check', command], {
      env: {
        PATH: process.env.PATH,
        HOME: tmp,
        WARREN_AGENT_URL: daemonUrl,
        WARREN_AGENT_CACHE_DIR: cacheDir,
      },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the terminal addon served at /bin/', () => {
  it("serves this daemon's own node-pty build with its SHA-256, and 304 when the agent has it", async () => {
    const response = await fetch(`${t.url}/bin/warren-agent-pty/${ownKey}.node`);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-warren-sha256')).toBe(addonSha);
    const body = Buffer.from(await response.arrayBuffer());
    expect(createHash('sha256').update(body).digest('hex')).toBe(addonSha);

    const again = await fetch(`${t.url}/bin/warren-agent-pty/${ownKey}.node`, {
      headers: { 'if-none-match': `"${addonSha}"` },
    });
    expect(again.status).toBe(304);
  });

  it('answers a workspace on another Node ABI with a 404 that says what the server has', async () => {
    const response = await fetch(
      `${t.url}/bin/warren-agent-pty/${process.platform}-${process.arch}-abi1.node`,
    );
    expect(response.status).toBe(404);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe(
      `This server has a terminal addon for ${process.platform}-${process.arch} with Node ABI ${process.versions.modules} only, not ${process.platform}-${process.arch} with Node ABI 1; run the workspace on the same platform and Node.js version as the server (Node ${process.versions.node}).`,
    );
  });

  it('refuses names that are not an addon', async () => {
    for (const name of ['..%2F..%2Fetc%2Fpasswd', 'pty.node', `${ownKey}.so`]) {
      const response = await fetch(`${t.url}/bin/warren-agent-pty/${name}`);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
        /is not a terminal addon name/,
      );
    }
  });
});

describe('the bundled agent', () => {
  it('opens a real terminal with the addon it downloads from the daemon', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const result = await terminalCheck('stty size; tty; echo "sum=$((6*7))"; exit 3', cacheDir);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('24 80\r\n');
    expect(result.stdout).toMatch(/\/dev\/pts\/\d+\r\n/);
    expect(result.stdout).toContain('sum=42\r\n');
    expect(result.code).toBe(3);
    const cached = fs.readFileSync(path.join(cacheDir, `pty-${ownKey}.node`));
    expect(createHash('sha256').update(cached).digest('hex')).toBe(addonSha);
  });

  it('says in a sentence why terminals are unavailable when the daemon cannot be reached', async () => {
    const down = await startTestDaemon('sqlite');
    const url = down.url;
    await down.close();
    const result = await terminalCheck('true', path.join(tmp, 'cache-down'), url);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^warren-agent: Terminals are unavailable: the terminal addon could not be downloaded from http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\.\n$/,
    );
  });

  it('says in a sentence why terminals are unavailable when the daemon has no addon built', async () => {
    process.env.WARREN_AGENT_PTY_DIR = fs.mkdtempSync(path.join(tmp, 'no-addon-'));
    const bare = await startTestDaemon('sqlite').finally(() => {
      delete process.env.WARREN_AGENT_PTY_DIR;
    });
    try {
      const result = await terminalCheck('true', path.join(tmp, 'cache-bare'), bare.url);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `warren-agent: Terminals are unavailable: the server has no terminal addon for ${process.platform}-${process.arch} with Node ABI ${process.versions.modules}. node-pty is not built on this server; reinstall it where a C++ toolchain is present, or set WARREN_AGENT_PTY_DIR to a folder holding pty.node.\n`,
      );
    } finally {
      await bare.close();
    }
  });
});

const docker = await ensureDockerd();

describe.skipIf(!docker.available)('the bundled agent in a Docker workspace', () => {
  it('loads the downloaded addon in an image that holds only node and its libraries', async () => {
    const image = await ensureTestImage();
    const { stdout } = await run(
      'docker',
      [
        'run',
        '--rm',
        '--network',
        'host',
        '--user',
        '1000:1000',
        '-e',
        `WARREN_AGENT_URL=${t.url}`,
        '-v',
        `${bundle}:/opt/warren-agent.mjs:ro`,
        image,
        'node',
        '/opt/warren-agent.mjs',
        'terminal-check',
        'stty size; tty; id -u',
      ],
      { timeout: 120_000 },
    );
    expect(stdout).toContain('24 80\r\n');
    expect(stdout).toMatch(/\/dev\/pts\/\d+\r\n1000\r\n/);
  }, 180_000);
});
