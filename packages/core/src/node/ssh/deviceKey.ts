import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ephemeralKeyPair, type SshKeyPair } from '../tunnels/workspaceSsh';

/**
 * This computer's SSH key for OpenSSH (CLI or desktop). The private half never leaves the
 * machine; the daemon is shown the public half when a tunnel opens and tells the agent to accept
 * it for that one connection only, so holding the key without a Warren token is useless.
 */
export function loadOrCreateDeviceKey(identityFile: string): SshKeyPair {
  try {
    return {
      privateKey: fs.readFileSync(identityFile, 'utf8'),
      publicKey: fs.readFileSync(`${identityFile}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' '),
    };
  } catch {
    const pair = ephemeralKeyPair();
    fs.mkdirSync(path.dirname(identityFile), { recursive: true, mode: 0o700 });
    fs.writeFileSync(identityFile, pair.privateKey, { mode: 0o600 });
    fs.writeFileSync(`${identityFile}.pub`, `${pair.publicKey} warren\n`, { mode: 0o644 });
    return pair;
  }
}

/** Records the daemon-pinned host key under `alias` in `knownHostsFile`, replacing what was there for it. */
export function rememberHostKey(knownHostsFile: string, alias: string, hostKey: string): void {
  fs.mkdirSync(path.dirname(knownHostsFile), { recursive: true, mode: 0o700 });
  let lines: string[] = [];
  try {
    lines = fs.readFileSync(knownHostsFile, 'utf8').split('\n');
  } catch {}
  const entry = `${alias} ${hostKey}`;
  if (lines.includes(entry)) return;
  const kept = lines.filter((line) => line.trim() && line.split(' ')[0] !== alias);
  writeFileAtomically(knownHostsFile, `${[...kept, entry].join('\n')}\n`, 0o600);
}

/** Written to a temp file and renamed, so a reader (OpenSSH, a crash) never sees half a file. */
export function writeFileAtomically(file: string, text: string, mode: number): void {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(temp, text, { mode });
  fs.renameSync(temp, file);
}
