import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { sshString, sshUint32 } from './sshWire';

/** A client key pair: private in OpenSSH form, public as `ssh-ed25519 AAAA...`. */
export interface SshKeyPair {
  privateKey: string;
  publicKey: string;
}

const KEY_TYPE = 'ssh-ed25519';
const AUTH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');
/** An unencrypted key's private section is padded to this many bytes (PROTOCOL.key). */
const BLOCK_SIZE = 8;

/**
 * A fresh Ed25519 key pair, the private half in OpenSSH's own format (PROTOCOL.key, unencrypted),
 * which ssh2, `ssh` and `ssh-keygen` all read. It is written here from the key's raw bytes: ssh2's
 * generator goes through DER and PEM encoders that cost about four times the key itself under
 * OpenSSL 3, and it dropped a leading zero byte of the public key about once in 256 keys.
 */
export function ephemeralKeyPair(): SshKeyPair {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d ?? '', 'base64url');
  const pub = Buffer.from(jwk.x ?? '', 'base64url');
  const publicBlob = Buffer.concat([sshString(KEY_TYPE), sshString(pub)]);
  const check = randomBytes(4);
  const keys = Buffer.concat([
    check,
    check,
    sshString(KEY_TYPE),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(''), // comment
  ]);
  const padding = Buffer.from(
    Array.from({ length: (BLOCK_SIZE - (keys.length % BLOCK_SIZE)) % BLOCK_SIZE }, (_, i) => i + 1),
  );
  const body = Buffer.concat([
    AUTH_MAGIC,
    sshString('none'), // cipher
    sshString('none'), // kdf
    sshString(''), // kdf options
    sshUint32(1),
    sshString(publicBlob),
    sshString(Buffer.concat([keys, padding])),
  ]);
  const lines = body.toString('base64').replace(/.{1,70}/g, '$&\n');
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines}-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `${KEY_TYPE} ${publicBlob.toString('base64')}`,
  };
}
