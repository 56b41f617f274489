import type { WireguardPeerSpec } from './networkMap';
import type { WireguardDeviceConfig, WireguardPeerConfig } from './uapiSet';
import type { WireguardDeviceState, WireguardPeerState } from './WireguardDevice';

/**
 * WireGuard drops a session this long after its last handshake (REJECT_AFTER_TIME, 180 s). While
 * a session is younger, the endpoint the device learned from authenticated packets is more
 * current than the coordinator's (NAT, roaming), so a sync leaves it alone.
 */
export const SESSION_LIFETIME_MS = 180_000;

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((item) => set.has(item));
}

function peerChange(want: WireguardPeerSpec, have: WireguardPeerState | undefined, now: number) {
  const change: WireguardPeerConfig = { publicKey: want.publicKey };
  const live =
    have?.lastHandshakeAt !== undefined && now - have.lastHandshakeAt.getTime() < SESSION_LIFETIME_MS;
  let changed = have === undefined;
  if (want.endpoint !== undefined && want.endpoint !== have?.endpoint && !live) {
    change.endpoint = want.endpoint;
    changed = true;
  }
  const keepalive = want.persistentKeepaliveSeconds ?? 0;
  if (keepalive !== (have?.persistentKeepaliveSeconds ?? 0) || (have === undefined && keepalive > 0)) {
    change.persistentKeepaliveSeconds = keepalive;
    changed = true;
  }
  if (!have || !sameSet(want.allowedIps, have.allowedIps)) {
    change.replaceAllowedIps = true;
    change.allowedIps = want.allowedIps;
    changed = true;
  }
  return changed ? change : undefined;
}

/**
 * The smallest set request that turns `device`'s peers into `desired`: removes the peers it should
 * not have, adds the missing ones, and touches a present peer only where it differs, so live
 * sessions (and their counters) survive. Undefined when the device already matches. Never uses
 * replace_peers: a set is not transactional, and a failure halfway would leave no peers at all.
 */
export function planPeerSync(
  device: WireguardDeviceState,
  desired: readonly WireguardPeerSpec[],
  now = Date.now(),
): WireguardDeviceConfig | undefined {
  const have = new Map(device.peers.map((peer) => [peer.publicKey, peer]));
  const wanted = new Set(desired.map((peer) => peer.publicKey));
  const peers: WireguardPeerConfig[] = [];
  for (const peer of device.peers)
    if (!wanted.has(peer.publicKey)) peers.push({ publicKey: peer.publicKey, remove: true });
  for (const want of desired) {
    const change = peerChange(want, have.get(want.publicKey), now);
    if (change) peers.push(change);
  }
  return peers.length > 0 ? { peers } : undefined;
}
