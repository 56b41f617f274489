import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { Secret } from '@warren/core';

const N = 16384;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** `scrypt$N$r$p$salt$hash`, so the cost can rise later without breaking stored hashes. */
export async function hashPassword(password: Secret): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password.reveal(), salt, N, R, P);
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Hash of a throwaway password, checked against when the user does not exist, so timing does not tell. */
let decoyHash: Promise<string> | undefined;

export async function verifyPassword(password: Secret, stored: string | undefined): Promise<boolean> {
  if (stored === undefined) {
    decoyHash ??= hashPassword({ reveal: () => 'decoy-password' } as Secret);
    await verifyPassword(password, await decoyHash);
    return false;
  }
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await derive(
    password.reveal(),
    Buffer.from(salt, 'base64url'),
    Number(n),
    Number(r),
    Number(p),
  );
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
