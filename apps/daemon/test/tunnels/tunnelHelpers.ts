import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../cliProcess';

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a real program (OpenSSH's ssh or scp) with a time limit, collecting its output. */
export function run(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; stdin?: string; timeoutMs?: number } = {},
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

/** A person's CLI home: its own config dir (token, SSH key, known hosts) and SSH config file. */
export interface CliHome {
  env: Record<string, string>;
  sshConfig: string;
  dir: string;
}

export async function cliHome(url: string, token: string): Promise<CliHome> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-cli-'));
  const env = { WARREN_CONFIG_DIR: path.join(dir, 'warren'), WARREN_URL: url, WARREN_TOKEN: token };
  const sshConfig = path.join(dir, 'ssh_config');
  return { env, sshConfig, dir };
}

/** `warren config-ssh` into the home's SSH config; returns the CLI result. */
export async function configSsh(home: CliHome) {
  return runCli(['config-ssh', '--ssh-config-file', home.sshConfig, '--yes'], { env: home.env });
}

/** OpenSSH `ssh` through the config `warren config-ssh` wrote, in batch mode (no prompts). */
export function ssh(home: CliHome, host: string, command: string, stdin?: string, extra: string[] = []) {
  return run('ssh', ['-F', home.sshConfig, '-o', 'BatchMode=yes', ...extra, host, command], {
    env: { ...process.env, ...home.env },
    stdin,
  });
}

export function scp(home: CliHome, args: string[]) {
  return run('scp', ['-F', home.sshConfig, '-o', 'BatchMode=yes', '-q', ...args], {
    env: { ...process.env, ...home.env },
    timeoutMs: 60_000,
  });
}

export const openSshAvailable = fs.existsSync('/usr/bin/ssh') && fs.existsSync('/usr/bin/scp');
