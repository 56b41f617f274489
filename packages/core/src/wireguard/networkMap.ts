import { z } from 'zod';
import { ipPrefixSchema, wireguardEndpointSchema } from './addressSyntax';
import { wireguardKeySchema } from './wireguardKey';

/**
 * What the daemon and a WireGuard node (a workspace agent or a client device) say to each other.
 * A node registers its public key and, if it has one reachable, its endpoint; the daemon answers
 * with a network map: the node's own addresses and the whole peer set it should have now. Maps
 * are complete and versioned rather than diffs, so a node that missed one just applies the next.
 */
export const wireguardRegistrationSchema = z
  .object({
    publicKey: wireguardKeySchema,
    /** Where other nodes can send to this node's wireguard-go, if anywhere (e.g. 192.0.2.7:51820). */
    endpoint: wireguardEndpointSchema.optional(),
  })
  .strict();
export type WireguardRegistration = z.infer<typeof wireguardRegistrationSchema>;

export const wireguardPeerSpecSchema = z
  .object({
    publicKey: wireguardKeySchema,
    endpoint: wireguardEndpointSchema.optional(),
    allowedIps: z.array(ipPrefixSchema).min(1).max(16),
    persistentKeepaliveSeconds: z.int().min(0).max(65535).optional(),
  })
  .strict();
export type WireguardPeerSpec = z.infer<typeof wireguardPeerSpecSchema>;

export const wireguardNetworkMapSchema = z
  .object({
    /** Grows with every change the daemon makes; a node ignores a map older than one it applied. */
    version: z.int().min(0),
    /** The node's own tunnel addresses, as prefixes for `ip address add` (e.g. 100.64.0.5/32). */
    addresses: z.array(ipPrefixSchema).min(1).max(4),
    peers: z.array(wireguardPeerSpecSchema).max(10_000),
  })
  .strict();
export type WireguardNetworkMap = z.infer<typeof wireguardNetworkMapSchema>;
