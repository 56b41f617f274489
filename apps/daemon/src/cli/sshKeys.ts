import path from 'node:path';
import type { SshKeyPair } from '@warren/core/node';
import * as coreSsh from '@warren/core/node';
import { cliConfigDir } from './CliConfig';

/**
 * Where the CLI keeps this computer's SSH key and the daemon-pinned host keys for
 * `warren config-ssh`; the key handling itself is shared with the desktop in @warren/core/node.
 */
export function sshDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cliConfigDir(env), 'ssh');
}

export const identityFile = (env?: NodeJS.ProcessEnv) => path.join(sshDir(env), 'id_ed25519');
export const knownHostsFile = (env?: NodeJS.ProcessEnv) => path.join(sshDir(env), 'known_hosts');

export function loadOrCreateDeviceKey(env?: NodeJS.ProcessEnv): SshKeyPair {
  return coreSsh.loadOrCreateDeviceKey(identityFile(env));
}

/** Records the daemon-pinned host key under `alias`, replacing what was there for it. */
export function rememberHostKey(alias: string, hostKey: string, env?: NodeJS.ProcessEnv): void {
  coreSsh.rememberHostKey(knownHostsFile(env), alias, hostKey);
}
