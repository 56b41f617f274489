import { checkWireguardHelper } from '@warren/core/node';

/**
 * Why this host cannot run WireGuard mode, or undefined when it can: the same checks as a
 * client's helper (Linux, wireguard-go and `ip` on PATH, /dev/net/tun, and root or an ambient
 * CAP_NET_ADMIN to make a TUN device), unless WARREN_AGENT_WIREGUARD=0 turns it off. The daemon
 * falls back to the relay for workspaces whose agent says nothing.
 */
export function wireguardUnavailableReason(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.WARREN_AGENT_WIREGUARD === '0') return 'WARREN_AGENT_WIREGUARD=0 turns it off';
  const helper = checkWireguardHelper({ env });
  return helper.available ? undefined : helper.reason;
}
