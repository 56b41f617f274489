import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ARTIFACTS_DIR } from './harness';

const daemonDir = path.resolve(import.meta.dirname, '..');
export const cli = path.join(daemonDir, 'dist', 'warren.mjs');
const children: ChildProcess[] = [];

/** The built CLI, built once if a plain vitest run lacks it. */
export function ensureCliBuilt(): void {
  if (!fs.existsSync(cli)) execFileSync(process.execPath, ['build.mjs'], { cwd: daemonDir });
  fs.mkdirSync(path.join(ARTIFACTS_DIR, 'logs'), { recursive: true });
}

/** Starts `warren server` as a real process and resolves with its URL once it prints it. */
export function startServerProcess(
  args: string[],
  env: Record<string, string> = {},
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-server-')),
): Promise<{ child: ChildProcess; url: string; dataDir: string }> {
  const child = spawn(
    process.execPath,
    [cli, 'server', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...args],
    {
      env: { ...process.env, WARREN_LOG_FORMAT: 'json', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  const log = fs.createWriteStream(
    path.join(ARTIFACTS_DIR, 'logs', `server-process-${path.basename(dataDir)}-${child.pid}.log`),
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const match = /Warren is running at (\S+)/.exec(out);
      if (match?.[1]) resolve({ child, url: match[1], dataDir });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code} before it was ready: ${out}`)));
  });
}

export function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((r) => child.on('exit', r));
}

export function killServerProcesses(): void {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
}
