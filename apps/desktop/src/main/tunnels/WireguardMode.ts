import { WarrenError } from '@warren/core';
import {
  connectWorkspaceForwardsOverWireguard,
  type ForwardConnection,
  WireguardClientDevice,
  type WireguardControl,
  wireguardModeUnavailableReason,
} from '@warren/core/node';
import type { Logger } from '../log/desktopLog';

export interface WireguardModeOptions {
  /** Whether the person turned WireGuard on for this deployment (read at each choice). */
  wanted: () => boolean;
  control: WireguardControl;
  /** wireguard-go's path when it is not on PATH. */
  binary?: string;
  /** The device's interface name; default a random `wgc…` one. */
  interfaceName?: string;
  log: Logger;
}

/** Where a deployment's forwards go now: over this computer's device, or through the relay (and why). */
export type WireguardChoice = { via: 'wireguard' } | { via: 'relay'; notice: string | undefined };

/**
 * WireGuard mode for one deployment's tunnels. It is used when the person turned it on for the
 * deployment AND this computer has the privileged helper (wireguard-go and the right to make a
 * TUN device) AND the server runs WireGuard mode (core's wireguardModeUnavailableReason); then
 * one device, started on first use, carries every workspace's forwards as plain TCP until the
 * session ends or the setting goes off. Otherwise forwards use the relay and a notice says why.
 */
export class WireguardMode {
  #device: WireguardClientDevice | undefined;
  #starting: Promise<WireguardClientDevice> | undefined;
  #ended = false;

  constructor(private readonly options: WireguardModeOptions) {}

  /** The route for forwards now; asking for WireGuard starts the device if it is not running. */
  async choose(): Promise<WireguardChoice> {
    if (!this.options.wanted()) return { via: 'relay', notice: undefined };
    const reason = await this.#unavailableReason();
    if (reason) return this.#relay(reason);
    try {
      await this.#running();
      return { via: 'wireguard' };
    } catch (error) {
      return this.#relay((error as Error).message);
    }
  }

  /** Why WireGuard, turned on, would not be used, as a sentence; undefined when off or usable. */
  async notice(): Promise<string | undefined> {
    if (!this.options.wanted()) return undefined;
    const reason = await this.#unavailableReason();
    return reason ? fallbackNotice(reason) : undefined;
  }

  /** A workspace's forwards over the device (started again if wireguard-go died meanwhile). */
  async connect(workspace: string): Promise<ForwardConnection> {
    return connectWorkspaceForwardsOverWireguard(await this.#running(), workspace);
  }

  /** The running device's interface, if any (for logs and tests). */
  get interfaceName(): string | undefined {
    return this.#device?.running ? this.#device.device.interfaceName : undefined;
  }

  /** Unregisters the device and removes its interface (sign-out, quit, the setting turned off). */
  async close(): Promise<void> {
    await this.#starting?.catch(() => {});
    const device = this.#device;
    this.#device = undefined;
    if (!device) return;
    await device.close();
    this.options.log.info('WireGuard device closed', { interface: device.device.interfaceName });
  }

  /** The session is over (sign-out, switch, quit): the device goes and none starts again. */
  async end(): Promise<void> {
    this.#ended = true;
    await this.close();
  }

  async #unavailableReason(): Promise<string | undefined> {
    // A running device already proved the helper and the server.
    if (this.#device?.running) return undefined;
    const { binary, control } = this.options;
    return wireguardModeUnavailableReason(control, binary ? { binary } : {});
  }

  /** The device, started once and shared by every workspace; a dead one is replaced. */
  #running(): Promise<WireguardClientDevice> {
    const device = this.#device;
    if (device?.running) return Promise.resolve(device);
    if (this.#ended)
      return Promise.reject(
        new WarrenError('UNAVAILABLE', 'Signed out of this server; its tunnels are closed.'),
      );
    this.#starting ??= this.#start(device).finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(dead: WireguardClientDevice | undefined): Promise<WireguardClientDevice> {
    // wireguard-go died under the old device: the daemon still lists it until told otherwise.
    if (dead) await dead.close();
    const { binary, control, interfaceName, log } = this.options;
    const device = await WireguardClientDevice.start(control, {
      ...(binary ? { binary } : {}),
      ...(interfaceName ? { interfaceName } : {}),
    });
    this.#device = device;
    log.info('WireGuard device started', { interface: device.device.interfaceName });
    return device;
  }

  #relay(reason: string): WireguardChoice {
    const notice = fallbackNotice(reason);
    this.options.log.warn('port forwards use the relay', { reason: notice });
    return { via: 'relay', notice };
  }
}

/** "WireGuard is off: wireguard-go was not found on PATH; using the relay." */
export function fallbackNotice(reason: string): string {
  const clause = reason.replace(/[.\s]+$/, '');
  const lowered = /^[A-Z][a-z]/.test(clause) ? clause.charAt(0).toLowerCase() + clause.slice(1) : clause;
  return `WireGuard is off: ${lowered}; using the relay.`;
}
