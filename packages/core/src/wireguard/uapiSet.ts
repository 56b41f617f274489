import { z } from 'zod';
import { describeIssues } from '../errors/describeIssues';
import { WarrenError } from '../errors/WarrenError';
import type { Secret } from '../secrets/Secret';
import { ipPrefixSchema, wireguardEndpointSchema } from './addressSyntax';
import {
  wireguardKeySchema,
  wireguardKeyToHex,
  wireguardSecretKeySchema,
  ZERO_KEY_HEX,
} from './wireguardKey';

/** More peers than this in one set is a bug upstream, not a network. */
export const MAX_PEERS_PER_SET = 10_000;
export const MAX_ALLOWED_IPS_PER_PEER = 1024;

export const wireguardPeerConfigSchema = z
  .object({
    publicKey: wireguardKeySchema,
    /** Removes the peer; nothing else may be given with it. */
    remove: z.literal(true).optional(),
    /** Changes the peer only if the device already has it. */
    updateOnly: z.literal(true).optional(),
    /** null removes the preshared key. */
    presharedKey: wireguardSecretKeySchema.nullable().optional(),
    endpoint: wireguardEndpointSchema.optional(),
    /** 0 turns keepalives off. */
    persistentKeepaliveSeconds: z.int().min(0).max(65535).optional(),
    /** Drops the peer's allowed IPs before adding `allowedIps`; without it they are added to. */
    replaceAllowedIps: z.literal(true).optional(),
    allowedIps: z.array(ipPrefixSchema).max(MAX_ALLOWED_IPS_PER_PEER).optional(),
  })
  .strict()
  .refine((peer) => !peer.remove || Object.keys(peer).every((k) => k === 'publicKey' || k === 'remove'), {
    message: 'a peer being removed takes no other settings',
  });
export type WireguardPeerConfig = z.input<typeof wireguardPeerConfigSchema>;

/** A UAPI set: only the fields given are changed. */
export const wireguardDeviceConfigSchema = z
  .object({
    /** null removes the private key (and so stops the device from talking). */
    privateKey: wireguardSecretKeySchema.nullable().optional(),
    /** 0 picks a random port. */
    listenPort: z.int().min(0).max(65535).optional(),
    /** 0 removes the mark. */
    fwmark: z.int().min(0).max(0xffffffff).optional(),
    /** Removes every peer before adding `peers`. */
    replacePeers: z.literal(true).optional(),
    peers: z.array(wireguardPeerConfigSchema).max(MAX_PEERS_PER_SET).optional(),
  })
  .strict();
export type WireguardDeviceConfig = z.input<typeof wireguardDeviceConfigSchema>;

function secretHex(key: Secret | null, what: string): string {
  return key === null ? ZERO_KEY_HEX : wireguardKeyToHex(key.reveal(), what);
}

function peerLines(peer: z.output<typeof wireguardPeerConfigSchema>): string[] {
  const lines = [`public_key=${wireguardKeyToHex(peer.publicKey, 'peer public key')}`];
  if (peer.remove) return [...lines, 'remove=true'];
  if (peer.updateOnly) lines.push('update_only=true');
  if (peer.presharedKey !== undefined)
    lines.push(`preshared_key=${secretHex(peer.presharedKey, 'preshared key')}`);
  if (peer.endpoint !== undefined) lines.push(`endpoint=${peer.endpoint}`);
  if (peer.persistentKeepaliveSeconds !== undefined)
    lines.push(`persistent_keepalive_interval=${peer.persistentKeepaliveSeconds}`);
  if (peer.replaceAllowedIps) lines.push('replace_allowed_ips=true');
  for (const cidr of peer.allowedIps ?? []) lines.push(`allowed_ip=${cidr}`);
  return lines;
}

/**
 * The whole set request for `config`, blank line included. Validates first, so a value can never
 * smuggle a newline (and with it another key) onto the socket.
 */
export function encodeUapiSetRequest(config: WireguardDeviceConfig): string {
  const parsed = wireguardDeviceConfigSchema.safeParse(config);
  if (!parsed.success)
    throw new WarrenError(
      'INVALID_INPUT',
      `The WireGuard configuration is invalid. ${describeIssues(parsed.error.issues)}`,
    );
  const c = parsed.data;
  const lines = ['set=1'];
  if (c.privateKey !== undefined) lines.push(`private_key=${secretHex(c.privateKey, 'private key')}`);
  if (c.listenPort !== undefined) lines.push(`listen_port=${c.listenPort}`);
  if (c.fwmark !== undefined) lines.push(`fwmark=${c.fwmark}`);
  if (c.replacePeers) lines.push('replace_peers=true');
  for (const peer of c.peers ?? []) lines.push(...peerLines(peer));
  return `${lines.join('\n')}\n\n`;
}
