import { createHash, randomBytes } from 'node:crypto';
import { Secret } from '@warren/core';

/** An agent token as the workspace holds it: `wat_` and 32 random bytes, base64url. */
const AGENT_TOKEN_PATTERN = /^wat_[A-Za-z0-9_-]{43}$/;

/** A fresh agent token and the hash to store; the token itself is never stored. */
export function mintAgentToken(): { token: Secret; tokenHash: string } {
  const token = `wat_${randomBytes(32).toString('base64url')}`;
  return { token: new Secret(token), tokenHash: hashAgentToken(token) };
}

/** SHA-256 of the whole token, base64url (the token has 256 bits, so a slow hash adds nothing). */
export function hashAgentToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export function looksLikeAgentToken(value: string): boolean {
  return AGENT_TOKEN_PATTERN.test(value);
}

/** The token of an `Authorization: Bearer <token>` header, if it has one. */
export function bearerToken(header: string | undefined): Secret | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1] ? new Secret(match[1]) : undefined;
}
