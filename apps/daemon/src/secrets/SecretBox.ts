import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Secret, WarrenError } from '@warren/core';

/**
 * Secrets at rest (provider keys, BYOK keys): AES-256-GCM. Stored as `v1:<keyId>:<iv>:<data+tag>`
 * (base64url), where keyId names the encryption key, so the key can rotate: new writes use the
 * current key and old rows still decrypt with the keys listed as previous.
 */
export class SecretBox {
  readonly #keys = new Map<string, Buffer>();
  readonly #currentId: string;

  constructor(current: Buffer, previous: Buffer[] = []) {
    for (const key of [current, ...previous]) {
      if (key.length !== 32)
        throw new WarrenError('INVALID_INPUT', 'An encryption key must be 32 bytes (64 hex characters).');
      this.#keys.set(keyId(key), key);
    }
    this.#currentId = keyId(current);
  }

  encrypt(secret: Secret): string {
    const key = this.#keys.get(this.#currentId) as Buffer;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(this.#currentId));
    const data = Buffer.concat([cipher.update(secret.reveal(), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return ['v1', this.#currentId, iv.toString('base64url'), data.toString('base64url')].join(':');
  }

  decrypt(stored: string): Secret {
    const [version, id, iv, data] = stored.split(':');
    const key = id ? this.#keys.get(id) : undefined;
    if (version !== 'v1' || !key || !iv || !data) {
      throw new WarrenError(
        'INTERNAL',
        'A stored secret was encrypted with a key this server does not have.',
      );
    }
    const bytes = Buffer.from(data, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(id as string));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    const plain = Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]);
    return new Secret(plain.toString('utf8'));
  }

  /** Whether a stored value needs re-encrypting with the current key (after a rotation). */
  isStale(stored: string): boolean {
    return stored.split(':')[1] !== this.#currentId;
  }
}

function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 8);
}

function parseKey(text: string, where: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/i.test(hex)) {
    throw new WarrenError('INVALID_INPUT', `${where} must hold 64 hex characters (a 32-byte key).`);
  }
  return Buffer.from(hex, 'hex');
}

/**
 * The encryption key: WARREN_SECRETS_KEY (hex), else the file WARREN_SECRETS_KEY_FILE, else
 * `secrets.key` in the data directory, created (mode 0600) on first start. Previous keys for
 * rotation: WARREN_SECRETS_PREVIOUS_KEYS, comma-separated hex.
 */
export function loadSecretBox(dataDir: string, env: NodeJS.ProcessEnv = process.env): SecretBox {
  let current: Buffer;
  if (env.WARREN_SECRETS_KEY) current = parseKey(env.WARREN_SECRETS_KEY, 'WARREN_SECRETS_KEY');
  else {
    const file = env.WARREN_SECRETS_KEY_FILE ?? path.join(dataDir, 'secrets.key');
    if (!fs.existsSync(file)) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    }
    current = parseKey(fs.readFileSync(file, 'utf8'), file);
  }
  const previous = (env.WARREN_SECRETS_PREVIOUS_KEYS ?? '')
    .split(',')
    .filter(Boolean)
    .map((k) => parseKey(k, 'WARREN_SECRETS_PREVIOUS_KEYS'));
  return new SecretBox(current, previous);
}
