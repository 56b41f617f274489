import { timingSafeEqual } from 'node:crypto';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import { CLIENT_KEY_HEADER, TUNNEL_SSH_PATH } from '../../agent/protocol';
import { WarrenError } from '../../errors/WarrenError';
import { ephemeralKeyPair, type SshKeyPair } from '../ssh/keyPair';

// ssh2 is CommonJS: Node's ESM loader gives it only a default export.
const { Client, utils } = ssh2;

import type { ForwardConnection, PortForward } from './ForwardConnection';
import { openTunnel, type TunnelConnected, type TunnelTarget } from './openTunnel';
import { spliceChannel } from './spliceChannel';

/**
 * Options of Warren's ssh2 patch (patches/ssh2@1.17.0.patch) that each save a round trip of a
 * session's setup: KEXINIT goes out with the ident rather than after the peer's, and the key's
 * authentication request follows the userauth service request without waiting for its accept.
 * Both ends are Warren's (an Ed25519 client key, the agent's ssh2 server), which is what makes
 * the second safe: only an RSA key's algorithm waits for the server's EXT_INFO.
 */
const PATCHED_SSH2_SHORTCUTS = { earlyKexInit: true, pipelineAuth: true } as const;

/** Opens a relay tunnel for an SSH connection presenting `publicKey`; the bytes are the caller's. */
export function openSshTunnel(target: TunnelTarget, workspace: string, publicKey: string) {
  return openTunnel(target, TUNNEL_SSH_PATH, { workspace }, { [CLIENT_KEY_HEADER]: publicKey });
}

/** An SSH connection to a workspace's agent; port forwards ride on it as direct-tcpip channels. */
export interface WorkspaceSsh extends ForwardConnection {
  client: InstanceType<typeof Client>;
  connected: TunnelConnected;
  /** Ends the SSH connection and the tunnel. */
  close(): void;
}

/**
 * An ssh2 client connected end to end to the workspace's agent through the relay: it
 * authenticates with a key made for this connection and accepts only the host key the daemon
 * pinned for the agent, so neither the relay nor anyone else can sit in the middle.
 */
export async function connectWorkspaceSsh(
  target: TunnelTarget,
  workspace: string,
  options: { keyPair?: SshKeyPair; keepaliveIntervalMs?: number } = {},
): Promise<WorkspaceSsh> {
  const keys = options.keyPair ?? ephemeralKeyPair();
  const { socket, connected, stream } = await openSshTunnel(target, workspace, keys.publicKey);
  if (!connected.hostKey) {
    socket.close();
    throw new WarrenError('UNAVAILABLE', "The server did not send the workspace agent's host key.");
  }
  const pinned = { ...connected, hostKey: connected.hostKey };
  return sshOverStream(stream, pinned, keys, () => socket.close(), options.keepaliveIntervalMs);
}

/**
 * An ssh2 client over an established byte stream (a relay tunnel, or a TCP connection over
 * WireGuard) that accepts only the pinned host key; `end` closes what carries the stream.
 */
export function sshOverStream(
  stream: Duplex,
  connected: TunnelConnected & { hostKey: string },
  keys: SshKeyPair,
  end: () => void,
  keepaliveIntervalMs = 15_000,
): Promise<WorkspaceSsh> {
  const pinned = hostKeyBlob(connected.hostKey);
  const client = new Client();
  return new Promise<WorkspaceSsh>((resolve, reject) => {
    let ready = false;
    client.once('ready', () => {
      ready = true;
      resolve({
        client,
        connected,
        close: () => {
          client.end();
          end();
        },
        carry: (socket, forward) => carryOverSsh(client, socket, forward),
        onClose: (listener) =>
          client.once('close', () => listener('the connection to the workspace dropped')),
      });
    });
    // Errors after the connection is up end it ('close' follows); the owner listens for that.
    client.on('error', (error) => {
      end();
      if (!ready)
        reject(
          new WarrenError(
            'UPSTREAM',
            /verification/i.test(error.message)
              ? "The workspace agent's host key does not match the one the server pinned; refusing to connect."
              : `The SSH connection to the workspace failed: ${error.message}.`,
          ),
        );
    });
    client.connect({
      sock: stream,
      username: connected.workspace.owner,
      privateKey: keys.privateKey,
      // Straight to the key: ssh2 would first try "none", a round trip the agent always refuses.
      authHandler: ['publickey'],
      hostVerifier: (key: Buffer) => key.length === pinned.length && timingSafeEqual(key, pinned),
      keepaliveInterval: keepaliveIntervalMs,
      readyTimeout: 20_000,
      ...PATCHED_SSH2_SHORTCUTS,
    });
  });
}

/** A direct-tcpip channel to the forward's port, joined to the local socket. */
async function carryOverSsh(
  client: InstanceType<typeof Client>,
  socket: net.Socket,
  forward: PortForward,
): Promise<void> {
  const channel = await new Promise<Duplex>((resolve, reject) =>
    client.forwardOut(
      socket.remoteAddress ?? '127.0.0.1',
      socket.remotePort ?? 0,
      forward.remoteHost ?? '127.0.0.1',
      forward.remotePort,
      (error, stream) =>
        error
          ? reject(
              new WarrenError(
                'UPSTREAM',
                `The workspace refused a connection to port ${forward.remotePort} (${error.message}).`,
              ),
            )
          : resolve(stream),
    ),
  );
  spliceChannel(socket, channel);
}

/** The key blob of `ssh-ed25519 AAAA...`, which is what ssh2's hostVerifier is given. */
export function hostKeyBlob(openSshKey: string): Buffer {
  const parsed = utils.parseKey(openSshKey);
  if (parsed instanceof Error || Array.isArray(parsed))
    throw new WarrenError('UPSTREAM', 'The server sent a host key that cannot be read.');
  return parsed.getPublicSSH();
}
