import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { WarrenError } from '../../errors/WarrenError';
import type { WireguardNetworkMap } from '../../wireguard/networkMap';
import { generateWireguardKeyPair } from '../../wireguard/node/generateWireguardKeyPair';
import { WireguardGoProcess } from '../../wireguard/node/WireguardGoProcess';
import {
  type OpenedWireguardTunnel,
  type OpenWireguardTunnelInput,
  openedWireguardTunnelSchema,
  type RegisterWireguardDeviceInput,
  wireguardDeviceIdSchema,
} from '../../wireguard/wireguardTunnel';
import { splitWorkspaceRef } from '../../workspaces/schemas';

/** The first connection waits for WireGuard's handshake; a lost first packet is retried after 5 s. */
const CONNECT_TIMEOUT_MS = 15_000;

/**
 * The daemon's `wireguard.*` procedures, as a client calls them (the CLI and desktop pass their
 * tRPC client's methods; core does not depend on the daemon's router).
 */
export interface WireguardControl {
  registerDevice(input: RegisterWireguardDeviceInput): Promise<{ map: WireguardNetworkMap }>;
  openTunnel(input: OpenWireguardTunnelInput): Promise<OpenedWireguardTunnel>;
  ack(input: { deviceId: string; version: number }): Promise<unknown>;
  removeDevice(input: { deviceId: string }): Promise<unknown>;
}

export interface WireguardClientDeviceOptions {
  /** Default: a fresh random id, so each process is its own device. */
  deviceId?: string;
  /** Default: `wgc` and 8 random hex characters. */
  interfaceName?: string;
  /** Run wireguard-go in this network namespace (tests and benches). */
  netns?: string;
}

/**
 * A client's WireGuard device (Node, Linux, root): wireguard-go with a fresh key, registered with
 * the daemon and configured only from the maps it returns. `close()` unregisters it and removes
 * the interface.
 */
export class WireguardClientDevice {
  private constructor(
    readonly control: WireguardControl,
    readonly deviceId: string,
    readonly device: WireguardGoProcess,
  ) {}

  static async start(
    control: WireguardControl,
    options: WireguardClientDeviceOptions = {},
  ): Promise<WireguardClientDevice> {
    const deviceId = wireguardDeviceIdSchema.parse(options.deviceId ?? randomBytes(8).toString('hex'));
    const interfaceName = options.interfaceName ?? `wgc${randomBytes(4).toString('hex')}`;
    let device: WireguardGoProcess;
    try {
      device = await WireguardGoProcess.start({
        interfaceName,
        ...(options.netns ? { netns: options.netns } : {}),
      });
    } catch (error) {
      throw new WarrenError(
        'UNAVAILABLE',
        `WireGuard mode needs wireguard-go and root on this machine: ${(error as Error).message}`,
        { cause: error },
      );
    }
    // A process that exits without close() must not leave wireguard-go (and its interface) behind.
    const kill = () => device.child.kill('SIGTERM');
    process.once('exit', kill);
    void device.exited.then(() => process.removeListener('exit', kill));
    const client = new WireguardClientDevice(control, deviceId, device);
    try {
      const keys = generateWireguardKeyPair();
      await device.client.configure({ privateKey: keys.privateKey });
      const { map } = await control.registerDevice({ deviceId, publicKey: keys.publicKey });
      await client.apply(map);
    } catch (error) {
      await device.stop();
      throw error;
    }
    return client;
  }

  /**
   * Asks the daemon for a tunnel to `workspace` (for one SSH connection presenting
   * `sshPublicKey`, or, without a key, for port forwards) and applies the map that comes with it.
   */
  async openTunnel(workspace: string, sshPublicKey?: string): Promise<OpenedWireguardTunnel> {
    const answer = openedWireguardTunnelSchema.safeParse(
      await this.control.openTunnel({
        ...splitWorkspaceRef(workspace),
        deviceId: this.deviceId,
        ...(sshPublicKey ? { sshPublicKey } : {}),
      }),
    );
    if (!answer.success)
      throw new WarrenError(
        'UPSTREAM',
        'The server answered the WireGuard tunnel request in an unexpected form.',
      );
    await this.apply(answer.data.map);
    return answer.data;
  }

  /** A TCP connection over this device to an agent's tunnel address (no delay: each write leaves at once). */
  connect(
    opened: Pick<OpenedWireguardTunnel, 'agentAddress' | 'workspace'>,
    port: number,
    options: { allowHalfOpen?: boolean } = {},
  ): Promise<net.Socket> {
    const host = opened.agentAddress;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true, ...options });
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
            `Could not reach the agent of "${opened.workspace.name}" at ${host}:${port} over WireGuard (${error.message}); is UDP between you and the workspace open?`,
          ),
        );
      }
      socket.once('error', fail);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', fail);
        resolve(socket);
      });
    });
  }

  /** Applies a map from the daemon and tells it so. */
  async apply(map: WireguardNetworkMap): Promise<void> {
    await this.device.applyNetworkMap(map);
    await this.control.ack({ deviceId: this.deviceId, version: map.version });
  }

  async close(): Promise<void> {
    await this.control.removeDevice({ deviceId: this.deviceId }).catch(() => {});
    await this.device.stop();
  }
}
