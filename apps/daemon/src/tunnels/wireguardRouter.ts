import {
  noInput,
  openWireguardTunnelInput,
  registerWireguardDeviceInput,
  wireguardAckInput,
  wireguardDeviceInput,
} from '@warren/core';
import type { Context } from '../api/context';
import { authedProcedure, router } from '../api/trpc';

const wireguardOf = (ctx: Context) => ctx.services.wireguard;

/**
 * WireGuard mode for clients. A device registers its key, then opens a tunnel per SSH
 * connection; which workspaces a user may reach is decided by the workspace policy, as for the
 * relay. See WireguardService for how access ends.
 */
export const wireguardRouter = router({
  /** Whether this server runs WireGuard mode (WARREN_WIREGUARD=1), asked before a client starts a device. */
  status: authedProcedure.input(noInput).query(({ ctx }) => ({ enabled: wireguardOf(ctx).enabled })),

  registerDevice: authedProcedure.input(registerWireguardDeviceInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'wireguard_device', id: input.deviceId };
    return { map: await wireguardOf(ctx).registerDevice(ctx.actor, input) };
  }),

  removeDevice: authedProcedure.input(wireguardDeviceInput).mutation(({ ctx, input }) => {
    ctx.audit.target = { type: 'wireguard_device', id: input.deviceId };
    wireguardOf(ctx).removeDevice(ctx.actor, input.deviceId);
    return { ok: true as const };
  }),

  /** The device's current map, for a client that wants to catch up without opening a tunnel. */
  map: authedProcedure.input(wireguardDeviceInput).query(({ ctx, input }) => ({
    map: wireguardOf(ctx).deviceMap(ctx.actor, input.deviceId),
  })),

  openTunnel: authedProcedure.input(openWireguardTunnelInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'workspace', id: input.name, name: input.name };
    const opened = await wireguardOf(ctx).openTunnel(ctx.actor, input);
    ctx.audit.target = { type: 'workspace', id: opened.workspace.id, name: opened.workspace.name };
    ctx.audit.diff = { after: { deviceId: input.deviceId, agentAddress: opened.agentAddress } };
    return opened;
  }),

  /** The device applied this map version. */
  ack: authedProcedure.input(wireguardAckInput).mutation(({ ctx, input }) => {
    wireguardOf(ctx).acknowledgeDevice(ctx.actor, input.deviceId, input.version);
    return { ok: true as const };
  }),
});
