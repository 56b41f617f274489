import fs from 'node:fs';
import path from 'node:path';
import { type SshKeyPair, ephemeralKeyPair } from '@warren/core/node';
import { cliConfigDir } from './CliConfig';

/**
 * This computer's SSH key for OpenSSH through `warren config-ssh`. The private half never leaves
 * the machine; the daemon is shown the public half when a tunnel opens and tells the agent to
 * accept it for that one connection only, so holding the key without a Warren token is useless.
 */
export function sshDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cliConfigDir(env), 'ssh');
}

export const identityFile = (env?: NodeJS.ProcessEnv) => path.join(sshDir(env), 'id_ed25519');
export const knownHostsFile = (env?: NodeJS.ProcessEnv) => path.join(sshDir(env), 'known_hosts');

export function loadOrCreateDeviceKey(env?: NodeJS.ProcessEnv): SshKeyPair {
  const file = identityFile(env);
  try {
    return { privateKey: fs.readFileSync(file, 'utf8'), publicKey: fs.readFileSync(`${file}.pub`, 'utf8').trim() };
  } catch {
    const pair = ephemeralKeyPair();
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, pair.privateKey, { mode: 0o600 });
    fs.writeFileSync(`${file}.pub`, `${pair.publicKey} warren\n`, { mode: 0o644 });
    return pair;
  }
}

/** Records the daemon-pinned host key under `alias`, replacing what was there for it. */
export function rememberHostKey(alias: string, hostKey: string, env?: NodeJS.ProcessEnv): void {
  const file = knownHostsFile(env);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let lines: string[] = [];
  try {
    lines = fs.readFileSync(file, 'utf8').split('\n');
  } catch {}
  const entry = `${alias} ${hostKey}`;
  const kept = lines.filter((line) => line.trim() && line.split(' ')[0] !== alias);
  if (lines.includes(entry)) return;
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${[...kept, entry].join('\n')}\n`, { mode: 0o600 });
  fs.renameSync(temp, file);
}
