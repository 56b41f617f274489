import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { WarrenError } from '../../errors/WarrenError';
import type { WireguardNetworkMap } from '../../wireguard/networkMap';
import { generateWireguardKeyPair } from '../../wireguard/node/generateWireguardKeyPair';
import { WireguardGoProcess } from '../../wireguard/node/WireguardGoProcess';
import { checkWireguardHelper } from '../../wireguard/node/wireguardHelper';
import {
  type OpenedWireguardTunnel,
  openedWireguardTunnelSchema,
  wireguardDeviceIdSchema,
} from '../../wireguard/wireguardTunnel';
import { splitWorkspaceRef } from '../../workspaces/schemas';
import { connectTcp } from './connectTcp';
import type { WireguardControl } from './wireguardControl';

/** The first connection waits for WireGuard's handshake; a lost first packet is retried after 5 s. */
const CONNECT_TIMEOUT_MS = 15_000;

export interface WireguardClientDeviceOptions {
  /** Default: a fresh random id, so each process is its own device. */
  deviceId?: string;
  /** Default: `wgc` and 8 random hex characters. */
  interfaceName?: string;
  /** Run wireguard-go in this network namespace (tests and benches). */
  netns?: string;
  /** The wireguard-go binary: a path, or a name on PATH (default `wireguard-go`). */
  binary?: string;
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
    readonly publicKey: string,
  ) {}

  static async start(
    control: WireguardControl,
    options: WireguardClientDeviceOptions = {},
  ): Promise<WireguardClientDevice> {
    const deviceId = wireguardDeviceIdSchema.parse(options.deviceId ?? randomBytes(8).toString('hex'));
    const interfaceName = options.interfaceName ?? `wgc${randomBytes(4).toString('hex')}`;
    const helper = checkWireguardHelper(options.binary ? { binary: options.binary } : {});
    if (!helper.available)
      throw new WarrenError('UNAVAILABLE', `WireGuard mode cannot run on this machine: ${helper.reason}.`);
    let device: WireguardGoProcess;
    try {
      device = await WireguardGoProcess.start({
        interfaceName,
        binary: helper.binary,
        // Other devices on this machine (another CLI run, the desktop) hold addresses in the same range.
        sourceRouted: true,
        ...(options.netns ? { netns: options.netns } : {}),
      });
    } catch (error) {
      throw new WarrenError(
        'UNAVAILABLE',
        `Could not start this machine's WireGuard device: ${(error as Error).message}`,
        { cause: error },
      );
    }
    // A process that exits without close() must not leave wireguard-go (and its interface) behind.
    const kill = () => device.child.kill('SIGTERM');
    process.once('exit', kill);
    void device.exited.then(() => process.removeListener('exit', kill));
    const keys = generateWireguardKeyPair();
    const client = new WireguardClientDevice(control, deviceId, device, keys.publicKey);
    try {
      await device.client.configure({ privateKey: keys.privateKey });
      await client.register();
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
    const input = {
      ...splitWorkspaceRef(workspace),
      deviceId: this.deviceId,
      ...(sshPublicKey ? { sshPublicKey } : {}),
    };
    const opened = await this.control.openTunnel(input).catch(async (error: unknown) => {
      if (!(error instanceof WarrenError && error.code === 'NOT_FOUND')) throw error;
      // A restarted daemon has forgotten this device: it registers again with the same key, and
      // a NOT_FOUND that remains is about the workspace.
      await this.register();
      return this.control.openTunnel(input);
    });
    const answer = openedWireguardTunnelSchema.safeParse(opened);
    if (!answer.success)
      throw new WarrenError(
        'UPSTREAM',
        'The server answered the WireGuard tunnel request in an unexpected form.',
      );
    await this.apply(answer.data.map);
    return answer.data;
  }

  /**
   * A TCP connection over this device to an agent's tunnel address (no delay: each write leaves
   * at once), from this device's own address.
   */
  connect(
    opened: Pick<OpenedWireguardTunnel, 'agentAddress' | 'workspace'>,
    port: number,
    options: { allowHalfOpen?: boolean } = {},
  ): Promise<net.Socket> {
    const host = opened.agentAddress;
    // From this device's own address, which its routing rule sends through this device.
    const localAddress = this.device.sourceAddressFor(host);
    const connect = { host, port, noDelay: true, ...(localAddress ? { localAddress } : {}), ...options };
    return connectTcp(connect, CONNECT_TIMEOUT_MS).catch((error: Error) => {
      throw new WarrenError(
        'UNAVAILABLE',
        `Could not reach the agent of "${opened.workspace.name}" at ${host}:${port} over WireGuard (${error.message}); is UDP between you and the workspace open?`,
      );
    });
  }

  /** Registers this device's key with the daemon (again, after a daemon restart) and applies the map. */
  async register(): Promise<void> {
    const { map } = await this.control.registerDevice({ deviceId: this.deviceId, publicKey: this.publicKey });
    await this.apply(map);
  }

  /** Applies a map from the daemon and tells it so. */
  async apply(map: WireguardNetworkMap): Promise<void> {
    await this.device.applyNetworkMap(map);
    await this.control.ack({ deviceId: this.deviceId, version: map.version });
  }

  /** False once wireguard-go has exited (closed, or it died): the device carries nothing any more. */
  get running(): boolean {
    const { child } = this.device;
    return child.exitCode === null && child.signalCode === null;
  }

  async close(): Promise<void> {
    await this.control.removeDevice({ deviceId: this.deviceId }).catch(() => {});
    await this.device.stop();
  }
}
