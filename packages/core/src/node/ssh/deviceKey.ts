import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { WarrenError } from '../../errors/WarrenError';
import { writeFileAtomically } from '../fs/writeFileAtomically';
import { ephemeralKeyPair, type SshKeyPair } from './keyPair';
import { sshPublicKeyOf } from './sshPublicKeyOf';

/**
 * This computer's SSH key for OpenSSH (CLI or desktop). The private half never leaves the
 * machine; the daemon is shown the public half when a tunnel opens and tells the agent to accept
 * it for that one connection only, so holding the key without a Warren token is useless.
 *
 * The private key is the truth: the public key is derived from it (a lost or stale `.pub` is
 * rewritten), and an existing private key is never replaced, since OpenSSH configs and a
 * concurrently starting CLI or desktop already use it.
 */
export function loadOrCreateDeviceKey(identityFile: string): SshKeyPair {
  return readDeviceKey(identityFile) ?? createDeviceKey(identityFile);
}

function readDeviceKey(identityFile: string): SshKeyPair | undefined {
  let privateKey: string;
  try {
    privateKey = fs.readFileSync(identityFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const publicKey = sshPublicKeyOf(privateKey);
  if (!publicKey)
    throw new WarrenError(
      'CONFLICT',
      `${identityFile} is not an SSH private key Warren can read; move it away and run the command again.`,
    );
  const pubFile = `${identityFile}.pub`;
  if (readPublicKey(pubFile) !== publicKey) writeFileAtomically(pubFile, `${publicKey} warren\n`, 0o644);
  return { privateKey, publicKey };
}

/**
 * Both halves go to temp files first; the private key is then link()ed into place, which fails
 * with EEXIST when another process won the race, and that process's key is the one to use.
 */
function createDeviceKey(identityFile: string): SshKeyPair {
  const pair = ephemeralKeyPair();
  fs.mkdirSync(path.dirname(identityFile), { recursive: true, mode: 0o700 });
  const suffix = `${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const privateTemp = `${identityFile}.${suffix}`;
  try {
    fs.writeFileSync(privateTemp, pair.privateKey, { mode: 0o600, flag: 'wx' });
    try {
      fs.linkSync(privateTemp, identityFile);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const winner = readDeviceKey(identityFile);
      if (!winner) throw error;
      return winner;
    }
  } finally {
    fs.rmSync(privateTemp, { force: true });
  }
  writeFileAtomically(`${identityFile}.pub`, `${pair.publicKey} warren\n`, 0o644);
  return pair;
}

function readPublicKey(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  } catch {
    return undefined;
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
