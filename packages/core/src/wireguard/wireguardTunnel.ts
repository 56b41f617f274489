import { z } from 'zod';
import { MAX_SSH_KEY_CHARS, MAX_WIREGUARD_GRANT_SECONDS } from '../agent/protocol';
import { workspaceRefInput } from '../workspaces/schemas';
import { forwardTicketSchema } from './forwardHeader';
import { wireguardNetworkMapSchema, wireguardRegistrationSchema } from './networkMap';

/**
 * What clients (CLI, desktop) say to the daemon's `wireguard.*` procedures. A client device
 * registers its WireGuard key, then asks for a tunnel to a workspace: once per SSH connection,
 * with that connection's client key, which the agent then accepts from that device only; or
 * without a key for port forwards, and gets a ticket the agent accepts from that device only.
 * The answer says where the agent listens on its WireGuard address and which host key to expect.
 */

/** The TCP port an agent's SSH server listens on at its WireGuard address (not 22: sshd may own it). */
export const WIREGUARD_SSH_PORT = 7022;
/** The TCP port an agent takes port forwards on at its WireGuard address (plain TCP, see forwardHeader). */
export const WIREGUARD_FORWARD_PORT = 7023;

/** A client device's id: the client picks it (e.g. a UUID kept with its WireGuard key). */
export const wireguardDeviceIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "-" or "_"');

export const registerWireguardDeviceInput = wireguardRegistrationSchema
  .extend({ deviceId: wireguardDeviceIdSchema })
  .strict();
export type RegisterWireguardDeviceInput = z.infer<typeof registerWireguardDeviceInput>;

export const wireguardDeviceInput = z.object({ deviceId: wireguardDeviceIdSchema }).strict();

export const openWireguardTunnelInput = workspaceRefInput
  .extend({
    deviceId: wireguardDeviceIdSchema,
    /**
     * The SSH public key (OpenSSH form) the client will present on this one connection; without
     * one the tunnel is for port forwards, and the answer carries a ticket for them.
     */
    sshPublicKey: z
      .string()
      .max(MAX_SSH_KEY_CHARS)
      .regex(
        /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/=]+( .*)?$/,
        'is not an OpenSSH public key',
      )
      .optional(),
  })
  .strict();
export type OpenWireguardTunnelInput = z.infer<typeof openWireguardTunnelInput>;

export const wireguardAckInput = z
  .object({ deviceId: wireguardDeviceIdSchema, version: z.int().min(0) })
  .strict();

export const openedWireguardTunnelSchema = z
  .object({
    workspace: z.object({ id: z.string(), owner: z.string(), name: z.string() }).strict(),
    /** The device's network map now, with the agent as a peer: apply it before connecting. */
    map: wireguardNetworkMapSchema,
    /** The agent's WireGuard address (IPv4) and the port its SSH server listens on there. */
    agentAddress: z.ipv4(),
    sshPort: z.int().min(1).max(65535),
    /** The agent's SSH host key, pinned by the daemon. */
    hostKey: z.string().max(MAX_SSH_KEY_CHARS),
    /**
     * For a tunnel opened without an SSH key: the port the agent takes forwards on, and the
     * ticket each forward presents, which the agent accepts from this device for `seconds`.
     */
    forward: z
      .object({
        port: z.int().min(1).max(65535),
        ticket: forwardTicketSchema,
        seconds: z.int().min(1).max(MAX_WIREGUARD_GRANT_SECONDS),
      })
      .strict()
      .optional(),
  })
  .strict();
export type OpenedWireguardTunnel = z.infer<typeof openedWireguardTunnelSchema>;
