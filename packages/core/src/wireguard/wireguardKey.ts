import { z } from 'zod';
import { WarrenError } from '../errors/WarrenError';
import { Secret } from '../secrets/Secret';

/**
 * WireGuard keys are 32 bytes. People and `wg(8)` write them as base64 (44 characters, one `=`);
 * the UAPI socket carries them as 64 lowercase hex characters. Warren stores and shows base64
 * and converts only at the UAPI edge. Pure (atob/btoa only), so the renderer may import it.
 */
export const WIREGUARD_KEY_BYTES = 32;

const BASE64_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
const HEX_KEY = /^[0-9a-fA-F]{64}$/;

/** A WireGuard public key in base64, as `wg pubkey` prints it. */
export const wireguardKeySchema = z
  .string()
  .regex(BASE64_KEY, 'must be a WireGuard key: 44 characters of base64 ending in "="');

export function isWireguardKey(value: string): boolean {
  return BASE64_KEY.test(value);
}

/** Private and preshared keys travel as Secrets; the check never puts the value in its message. */
export const wireguardSecretKeySchema = z
  .instanceof(Secret, { message: 'must be a Secret holding a WireGuard key' })
  .refine((secret) => BASE64_KEY.test(secret.reveal()), {
    message: 'must hold a WireGuard key: 44 characters of base64 ending in "="',
  });

function bytesToHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** Base64 key to the 64 lowercase hex characters UAPI expects. `what` names the key in errors. */
export function wireguardKeyToHex(base64: string, what = 'WireGuard key'): string {
  if (!BASE64_KEY.test(base64))
    throw new WarrenError('INVALID_INPUT', `The ${what} is not a WireGuard key (44 characters of base64).`);
  return bytesToHex(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
}

/** 64 hex characters (either case, as UAPI allows) to base64. */
export function wireguardKeyFromHex(hex: string, what = 'WireGuard key'): string {
  if (!HEX_KEY.test(hex))
    throw new WarrenError('INVALID_INPUT', `The ${what} is not a WireGuard key (64 hex characters).`);
  let binary = '';
  for (let i = 0; i < hex.length; i += 2)
    binary += String.fromCharCode(Number.parseInt(hex.slice(i, i + 2), 16));
  return btoa(binary);
}

/** The all-zero key: UAPI's way of saying "no key" (and of removing one in a set). */
export const ZERO_KEY_HEX = '0'.repeat(64);
