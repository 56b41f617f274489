import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killWorkspaceProcesses } from '@warren/core/test-support/workspaceProcesses';

const repo = path.resolve(import.meta.dirname, '..', '..', '..');
export const uiDir = path.resolve(import.meta.dirname, '..');
export const ARTIFACTS_DIR = path.join(uiDir, 'test-results');
const cli = path.join(repo, 'apps', 'daemon', 'dist', 'warren.mjs');
const agent = path.join(repo, 'apps', 'agent', 'dist', 'warren-agent.mjs');

/** The built UI, daemon and agent; built once when a plain `vitest run` finds one missing. */
export function ensureBuilt(): void {
  const build = (dir: string) =>
    execFileSync(process.execPath, ['build.mjs'], { cwd: dir, stdio: 'inherit' });
  if (!fs.existsSync(path.join(uiDir, 'dist', 'index.html'))) build(uiDir);
  if (!fs.existsSync(cli)) build(path.join(repo, 'apps', 'daemon'));
  if (!fs.existsSync(agent)) build(path.join(repo, 'apps', 'agent'));
}

export interface DaemonProcess {
  url: string;
  dataDir: string;
  child: ChildProcess;
  /** Ends the process; `keepData` leaves the data directory for a restart on it. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/**
 * `warren server` as a real process on a free loopback port, SQLite in a fresh data directory;
 * or, to restart one, on the same `listen` address and `dataDir`.
 */
export async function startDaemon(
  args: string[] = [],
  env: Record<string, string> = {},
  at: { listen?: string; dataDir?: string } = {},
): Promise<DaemonProcess> {
  const dataDir = at.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'warren-ui-'));
  fs.mkdirSync(path.join(ARTIFACTS_DIR, 'logs'), { recursive: true });
  const child = spawn(
    process.execPath,
    [
      cli,
      'server',
      '--listen',
      at.listen ?? '127.0.0.1:0',
      '--data-dir',
      dataDir,
      '--log-format',
      'json',
      ...args,
    ],
    {
      env: { ...process.env, WARREN_UI_DIR: path.join(uiDir, 'dist'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const log = fs.createWriteStream(path.join(ARTIFACTS_DIR, 'logs', `daemon-${path.basename(dataDir)}.log`), {
    flags: 'a',
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const match = /Warren is running at (\S+)/.exec(out);
      if (match?.[1]) resolve(match[1].replace(/\/$/, ''));
    });
    child.on('exit', (code) =>
      reject(new Error(`warren server exited with ${code} before it was ready: ${out}`)),
    );
  });
  return {
    url,
    dataDir,
    child,
    async stop(options) {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      if (!options?.keepData) {
        killWorkspaceProcesses(dataDir);
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
