import net from 'node:net';
import { WarrenError } from '../../errors/WarrenError';
import { openedWireguardTunnelSchema } from '../../wireguard/wireguardTunnel';
import { splitWorkspaceRef } from '../../workspaces/schemas';
import { coalesceSocketWrites } from './coalesceSocketWrites';
import type { WireguardClientDevice } from './WireguardClientDevice';
import { ephemeralKeyPair, type SshKeyPair, sshOverStream, type WorkspaceSsh } from './workspaceSsh';

/** The first connection waits for WireGuard's handshake; a lost first packet is retried after 5 s. */
const CONNECT_TIMEOUT_MS = 15_000;

/**
 * Like connectWorkspaceSsh, but the SSH connection runs over WireGuard from `device` to the
 * agent's tunnel address instead of through the relay: the daemon only coordinates. The daemon
 * registers this connection's key with the agent, and the agent's host key is pinned as for the
 * relay. Same result shape, so PortForwarder works over it.
 */
export async function connectWorkspaceSshOverWireguard(
  device: WireguardClientDevice,
  workspace: string,
  options: { keyPair?: SshKeyPair; keepaliveIntervalMs?: number } = {},
): Promise<WorkspaceSsh> {
  const keys = options.keyPair ?? ephemeralKeyPair();
  const ref = splitWorkspaceRef(workspace);
  const answer = openedWireguardTunnelSchema.safeParse(
    await device.control.openTunnel({ ...ref, deviceId: device.deviceId, sshPublicKey: keys.publicKey }),
  );
  if (!answer.success)
    throw new WarrenError(
      'UPSTREAM',
      'The server answered the WireGuard tunnel request in an unexpected form.',
    );
  const opened = answer.data;
  await device.apply(opened.map);
  const socket = await connect(opened.agentAddress, opened.sshPort, workspace);
  const connected = { type: 'connected' as const, workspace: opened.workspace, hostKey: opened.hostKey };
  return sshOverStream(socket, connected, keys, () => socket.destroy(), options.keepaliveIntervalMs);
}

function connect(host: string, port: number, workspace: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true });
    const timer = setTimeout(
      () => fail(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)),
      CONNECT_TIMEOUT_MS,
    );
    function fail(error: Error) {
      clearTimeout(timer);
      socket.destroy();
      reject(
        new WarrenError(
          'UNAVAILABLE',
          `Could not reach the agent of "${workspace}" at ${host}:${port} over WireGuard (${error.message}); is UDP between you and the workspace open?`,
        ),
      );
    }
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', fail);
      coalesceSocketWrites(socket);
      resolve(socket);
    });
  });
}
