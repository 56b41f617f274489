import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Secret } from '@warren/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthService } from '../auth/AuthService';
import { LiveSessions } from '../auth/LiveSessions';
import { defaultThrottleLimits, LoginThrottle } from '../auth/LoginThrottle';
import { type Db, migrateToLatest, openDb } from '../db/database';
import { revokeApiKey } from '../tokens/apiKeyQueries';
import { UsersService } from '../users/UsersService';
import { AUTH_CACHE_MS, GatewayAuth } from './GatewayAuth';

let dir: string;
let db: Db;
let clock: number;
let live: LiveSessions;
let gatewayAuth: GatewayAuth;
let token: { apiKeyId: string; token: string };

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-gateway-auth-'));
  db = openDb({ dialect: 'sqlite', file: path.join(dir, 'warren.db') });
  await migrateToLatest(db);
  clock = Date.now();
  const now = () => clock;
  live = new LiveSessions();
  const auth = new AuthService(db, new LoginThrottle(defaultThrottleLimits, now), live, now);
  const user = await new UsersService(db, live, now).createFirstUser({
    username: 'ada',
    email: 'ada@example.com',
    password: new Secret('correct horse battery'),
  });
  const created = await auth.createToken(
    { userId: user.id, username: 'ada', roles: ['owner'], apiKeyId: '' },
    'sdk',
  );
  token = { apiKeyId: created.apiKeyId, token: created.token.reveal() };
  gatewayAuth = new GatewayAuth(auth, live, now);
});

afterEach(async () => {
  gatewayAuth.clear();
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Whether the promise has settled already, so awaiting it cannot wait on anything. */
async function answeredAtOnce(result: Promise<unknown>): Promise<boolean> {
  const pending = Symbol('pending');
  return (await Promise.race([result, Promise.resolve(pending)])) !== pending;
}

describe('GatewayAuth', () => {
  it('reads a token in steady use again behind the remembered answer, so no call waits on the database', async () => {
    expect(await gatewayAuth.authenticate(token.token)).toHaveProperty('actor');
    for (let second = 1; second <= 5; second++) {
      clock += 1000;
      const call = gatewayAuth.authenticate(token.token);
      expect(await answeredAtOnce(call)).toBe(true);
      expect(await call).toHaveProperty('actor.apiKeyId', token.apiKeyId);
      await sleep(10); // the read behind it lands
    }
  });

  it('refuses a token revoked by another replica within AUTH_CACHE_MS of the last read', async () => {
    expect(await gatewayAuth.authenticate(token.token)).toHaveProperty('actor');
    // Revoked straight in the database: this replica's LiveSessions never hears of it.
    await revokeApiKey(db.kysely, token.apiKeyId, clock);
    clock += AUTH_CACHE_MS / 2;
    expect(await gatewayAuth.authenticate(token.token)).toHaveProperty('actor');
    await sleep(10);
    const refused = await gatewayAuth.authenticate(token.token);
    expect(refused).toHaveProperty('error.message', expect.stringMatching(/revoked/));
  });

  it('forgets a token revoked on this replica at once, even while it is being read again', async () => {
    expect(await gatewayAuth.authenticate(token.token)).toHaveProperty('actor');
    clock += AUTH_CACHE_MS / 2;
    await gatewayAuth.authenticate(token.token); // starts the read behind it
    await revokeApiKey(db.kysely, token.apiKeyId, clock);
    live.endKey(token.apiKeyId);
    const refused = await gatewayAuth.authenticate(token.token);
    expect(refused).toHaveProperty('error.message', expect.stringMatching(/revoked/));
  });
});
