import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Secret } from '@warren/core';

/**
 * An API key as the client holds it: `wrn_<id>_<secret>`. The id finds the row; only a
 * SHA-256 of the secret is stored (the secret has 256 bits, so a slow hash adds nothing).
 */
const TOKEN_PATTERN = /^wrn_([a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeyToken {
  id: string;
  secret: Secret;
}

export function mintApiKeyToken(): { id: string; token: Secret; secretHash: string } {
  const id = randomBytes(10).toString('hex').slice(0, 16);
  const secret = randomBytes(32).toString('base64url');
  return { id, token: new Secret(`wrn_${id}_${secret}`), secretHash: hashSecret(secret) };
}

export function parseApiKeyToken(raw: string): ApiKeyToken | undefined {
  const match = TOKEN_PATTERN.exec(raw.trim());
  if (!match?.[1] || !match[2]) return undefined;
  return { id: match[1], secret: new Secret(match[2]) };
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

export function secretMatches(token: ApiKeyToken, storedHash: string): boolean {
  const actual = Buffer.from(hashSecret(token.secret.reveal()));
  const expected = Buffer.from(storedHash);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
