import fs from 'node:fs';
import { findOnPath } from '@warren/core/node';

/**
 * Why this host cannot run WireGuard mode, or undefined when it can: wireguard-go must be on
 * PATH and the agent must be able to make a TUN device (root, /dev/net/tun). The daemon falls
 * back to the relay for workspaces whose agent says nothing.
 */
export function wireguardUnavailableReason(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.WARREN_AGENT_WIREGUARD === '0') return 'WARREN_AGENT_WIREGUARD=0 turns it off';
  if (process.platform !== 'linux') return `it needs Linux, not ${process.platform}`;
  if (process.getuid?.() !== 0) return 'the agent does not run as root, so it cannot create a TUN device';
  if (!fs.existsSync('/dev/net/tun')) return '/dev/net/tun is missing, so no TUN device can be made';
  if (!findOnPath('wireguard-go', env.PATH)) return 'wireguard-go is not installed';
  if (!findOnPath('ip', env.PATH)) return 'ip (iproute2) is not installed';
  return undefined;
}
