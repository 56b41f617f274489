import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/** The built CLI bundle; test/globalSetup.ts rebuilds it when its sources changed. */
export const CLI = path.resolve(import.meta.dirname, '..', 'dist', 'warren.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI as a user does: its own process, no terminal, the given stdin. Async, so
 * an in-process test daemon keeps serving. WARREN_URL and WARREN_TOKEN come only from `env`.
 */
export function runCli(
  args: string[],
  options: { env: Record<string, string | undefined>; stdin?: string; cwd?: string },
): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.WARREN_URL;
  delete env.WARREN_TOKEN;
  Object.assign(env, options.env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

/** Starts the built CLI for a long-running command (port-forward): the caller ends it. */
export function spawnCli(args: string[], options: { env: Record<string, string | undefined> }): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.WARREN_URL;
  delete env.WARREN_TOKEN;
  Object.assign(env, options.env);
  return spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}
