import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { Secret } from '../../secrets/Secret';
import { wireguardKeyToHex } from '../wireguardKey';

// Node only. X25519 keys in DER: a fixed prefix, then the 32 raw key bytes (RFC 8410).
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519_PREFIX_LENGTH = 12;

export interface WireguardKeyPair {
  /** base64, as `wg genkey` prints it. */
  privateKey: Secret;
  /** base64, as `wg pubkey` prints it. */
  publicKey: string;
  /** The same keys as UAPI's 64 hex characters. */
  privateKeyHex: Secret;
  publicKeyHex: string;
}

/** The public half of a base64 private key, as `wg pubkey` computes it. */
export function wireguardPublicKey(privateKey: Secret): string {
  const raw = Buffer.from(wireguardKeyToHex(privateKey.reveal(), 'private key'), 'hex');
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_X25519_PREFIX, raw]),
    format: 'der',
    type: 'pkcs8',
  });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return spki.subarray(SPKI_X25519_PREFIX_LENGTH).toString('base64');
}

/** A fresh key pair, clamped like `wg genkey` so the stored private key is the one X25519 uses. */
export function generateWireguardKeyPair(): WireguardKeyPair {
  const raw = randomBytes(32);
  raw[0] = (raw[0] as number) & 248;
  raw[31] = ((raw[31] as number) & 127) | 64;
  const privateKey = new Secret(raw.toString('base64'));
  const publicKey = wireguardPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    privateKeyHex: new Secret(raw.toString('hex')),
    publicKeyHex: wireguardKeyToHex(publicKey),
  };
}
