import fs from 'node:fs';
import { findOnPath } from '../../node/fs/findOnPath';
import { isExecutableFile } from '../../node/fs/isExecutableFile';

/** CAP_NET_ADMIN's bit in the capability masks of /proc/PID/status. */
const CAP_NET_ADMIN = 12n;

export interface WireguardHelperOptions {
  /** wireguard-go: a path (with a slash), or a name looked up on PATH; default `wireguard-go`. */
  binary?: string;
  /** Where PATH is read from; default this process's environment. */
  env?: NodeJS.ProcessEnv;
}

export type WireguardHelperCheck = { available: true; binary: string } | { available: false; reason: string };

/**
 * Whether this process can run a WireGuard device of its own, the privileged helper a client's
 * WireGuard mode needs: Linux; wireguard-go on PATH or at the configured path; `ip` (iproute2);
 * /dev/net/tun; and the right to create a TUN device, which wireguard-go and `ip` must inherit:
 * root, or CAP_NET_ADMIN in the ambient set (a capability only in the effective set is dropped
 * when they are started). The reason is a clause that reads after "WireGuard is off: ".
 */
export function checkWireguardHelper(options: WireguardHelperOptions = {}): WireguardHelperCheck {
  const searchPath = (options.env ?? process.env).PATH ?? '';
  const wanted = options.binary?.trim() || 'wireguard-go';
  if (process.platform !== 'linux')
    return {
      available: false,
      reason: `this app runs WireGuard devices on Linux only, not ${process.platform}`,
    };
  const binary = wanted.includes('/')
    ? isExecutableFile(wanted)
      ? wanted
      : undefined
    : findOnPath(wanted, searchPath);
  if (!binary)
    return {
      available: false,
      reason: wanted.includes('/')
        ? `wireguard-go was not found at ${wanted}`
        : `${wanted} was not found on PATH`,
    };
  if (!findOnPath('ip', searchPath))
    return { available: false, reason: 'ip (iproute2) was not found on PATH' };
  if (!fs.existsSync('/dev/net/tun'))
    return { available: false, reason: '/dev/net/tun is missing, so no TUN device can be made' };
  if (process.getuid?.() !== 0 && !hasAmbientNetAdmin(readStatus()))
    return {
      available: false,
      reason: 'this app runs neither as root nor with CAP_NET_ADMIN, so it cannot create a TUN device',
    };
  return { available: true, binary };
}

/** Whether a /proc/PID/status text grants CAP_NET_ADMIN in the ambient set (inherited by children). */
export function hasAmbientNetAdmin(status: string): boolean {
  const mask = /^CapAmb:\s*([0-9a-f]+)\s*$/im.exec(status)?.[1];
  return mask !== undefined && ((BigInt(`0x${mask}`) >> CAP_NET_ADMIN) & 1n) === 1n;
}

function readStatus(): string {
  try {
    return fs.readFileSync('/proc/self/status', 'utf8');
  } catch {
    return '';
  }
}
