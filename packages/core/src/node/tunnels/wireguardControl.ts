import { isErrorCode, WarrenError } from '../../errors/WarrenError';
import type { WireguardNetworkMap } from '../../wireguard/networkMap';
import { checkWireguardHelper, type WireguardHelperOptions } from '../../wireguard/node/wireguardHelper';
import type {
  OpenedWireguardTunnel,
  OpenWireguardTunnelInput,
  RegisterWireguardDeviceInput,
} from '../../wireguard/wireguardTunnel';

/**
 * The daemon's `wireguard.*` procedures as a client device uses them, with failures as
 * WarrenErrors carrying the server's code (so a refusal that waiting cannot fix ends a forward).
 */
export interface WireguardControl {
  /** Whether the server runs WireGuard mode at all. */
  status(): Promise<{ enabled: boolean }>;
  registerDevice(input: RegisterWireguardDeviceInput): Promise<{ map: WireguardNetworkMap }>;
  openTunnel(input: OpenWireguardTunnelInput): Promise<OpenedWireguardTunnel>;
  ack(input: { deviceId: string; version: number }): Promise<unknown>;
  removeDevice(input: { deviceId: string }): Promise<unknown>;
}

interface Mutation<I, O> {
  mutate(input: I): Promise<O>;
}

/**
 * `client.wireguard` of a typed tRPC client of the daemon (the CLI's and the desktop's), as far
 * as WireGuard mode calls it; structural, since core does not depend on the daemon's router.
 */
export interface WireguardProcedures {
  status: { query(): Promise<{ enabled: boolean }> };
  registerDevice: Mutation<RegisterWireguardDeviceInput, { map: WireguardNetworkMap }>;
  openTunnel: Mutation<OpenWireguardTunnelInput, OpenedWireguardTunnel>;
  ack: Mutation<{ deviceId: string; version: number }, unknown>;
  removeDevice: Mutation<{ deviceId: string }, unknown>;
}

/** The control a WireguardClientDevice needs, over a tRPC client's `wireguard` procedures. */
export function wireguardControl(api: WireguardProcedures): WireguardControl {
  const call = <T>(request: () => Promise<T>) =>
    request().catch((error: unknown) => Promise.reject(asWarrenError(error)));
  return {
    status: () => call(() => api.status.query()),
    registerDevice: (input) => call(() => api.registerDevice.mutate(input)),
    openTunnel: (input) => call(() => api.openTunnel.mutate(input)),
    ack: (input) => call(() => api.ack.mutate(input)),
    removeDevice: (input) => call(() => api.removeDevice.mutate(input)),
  };
}

/**
 * Why this client cannot use WireGuard mode with this server now, or undefined when it can. The
 * local helper is checked first (checkWireguardHelper), so a machine without wireguard-go never
 * asks; then the server's own switch. The reason reads after "WireGuard is off: ".
 */
export async function wireguardModeUnavailableReason(
  control: Pick<WireguardControl, 'status'>,
  helper: WireguardHelperOptions = {},
): Promise<string | undefined> {
  const local = checkWireguardHelper(helper);
  if (!local.available) return local.reason;
  const status = await control.status().catch((error: Error) => error);
  if (status instanceof WarrenError && status.code === 'NOT_FOUND')
    return 'this server is too old to offer WireGuard mode';
  if (status instanceof Error)
    return `the server could not say whether it offers WireGuard mode (${status.message.replace(/\.$/, '')})`;
  return status.enabled
    ? undefined
    : 'the server has WireGuard mode turned off (WARREN_WIREGUARD=1 turns it on)';
}

/** A tRPC client error as a WarrenError: the server's code and sentence, or UNAVAILABLE when it was not reached. */
function asWarrenError(error: unknown): WarrenError {
  if (error instanceof WarrenError) return error;
  const { cause, data, message } = error as { cause?: unknown; data?: { code?: unknown }; message?: unknown };
  if (cause instanceof WarrenError) return cause;
  const text = typeof message === 'string' && message ? message : 'the request failed';
  if (isErrorCode(data?.code)) return new WarrenError(data.code, text, { cause: error });
  return new WarrenError('UNAVAILABLE', `Could not reach the Warren server: ${text}`, { cause: error });
}
