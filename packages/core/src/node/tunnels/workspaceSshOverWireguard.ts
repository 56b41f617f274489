import { ephemeralKeyPair, type SshKeyPair } from '../ssh/keyPair';
import { coalesceSocketWrites } from './coalesceSocketWrites';
import type { WireguardClientDevice } from './WireguardClientDevice';
import { sshOverStream, type WorkspaceSsh } from './workspaceSsh';

/**
 * Like connectWorkspaceSsh, but the SSH connection runs over WireGuard from `device` to the
 * agent's tunnel address instead of through the relay: the daemon only coordinates. The daemon
 * registers this connection's key with the agent, and the agent's host key is pinned as for the
 * relay. Same result shape as through the relay.
 */
export async function connectWorkspaceSshOverWireguard(
  device: WireguardClientDevice,
  workspace: string,
  options: { keyPair?: SshKeyPair; keepaliveIntervalMs?: number } = {},
): Promise<WorkspaceSsh> {
  const keys = options.keyPair ?? ephemeralKeyPair();
  const opened = await device.openTunnel(workspace, keys.publicKey);
  const socket = await device.connect(opened, opened.sshPort);
  coalesceSocketWrites(socket);
  const connected = { type: 'connected' as const, workspace: opened.workspace, hostKey: opened.hostKey };
  return sshOverStream(socket, connected, keys, () => socket.destroy(), options.keepaliveIntervalMs);
}
