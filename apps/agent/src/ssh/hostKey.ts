import fs from 'node:fs';
import path from 'node:path';
import { ephemeralKeyPair, sshPublicKeyOf, writeFileAtomically } from '@warren/core/node';

export interface HostKey {
  /** OpenSSH private key text, for the SSH server. */
  privateKey: string;
  /** `ssh-ed25519 AAAA...`, reported to the daemon, which pins it and hands it to clients. */
  publicKey: string;
}

/**
 * The agent's SSH host key: kept in the agent's state directory (mode 0600) so a restarted
 * agent presents the key the daemon pinned; made on first start.
 */
export function loadOrCreateHostKey(stateDir: string): HostKey {
  const file = path.join(stateDir, 'ssh_host_ed25519_key');
  try {
    const privateKey = fs.readFileSync(file, 'utf8');
    const publicKey = sshPublicKeyOf(privateKey);
    if (publicKey) return { privateKey, publicKey };
  } catch {
    // Missing or unreadable: make a new one below.
  }
  const pair = ephemeralKeyPair();
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeFileAtomically(file, pair.privateKey, 0o600);
  return pair;
}
