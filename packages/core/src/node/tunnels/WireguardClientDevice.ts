import { randomBytes } from 'node:crypto';
import { WarrenError } from '../../errors/WarrenError';
import type { WireguardNetworkMap } from '../../wireguard/networkMap';
import { generateWireguardKeyPair } from '../../wireguard/node/generateWireguardKeyPair';
import { WireguardGoProcess } from '../../wireguard/node/WireguardGoProcess';
import {
  type OpenedWireguardTunnel,
  type OpenWireguardTunnelInput,
  type RegisterWireguardDeviceInput,
  wireguardDeviceIdSchema,
} from '../../wireguard/wireguardTunnel';

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
