import type { ApiKey } from '@warren/core';
import type { Insertable, Kysely } from 'kysely';
import type { ApiKeysTable, Database } from '../db/schema';

type Db = Kysely<Database>;

export async function insertApiKey(db: Db, row: Insertable<ApiKeysTable>): Promise<void> {
  await db.insertInto('api_keys').values(row).execute();
}

/** The key with its owner's status and login, for authenticating one request. */
export async function findApiKeyForAuth(db: Db, id: string) {
  return db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select([
      'api_keys.id',
      'api_keys.user_id',
      'api_keys.kind',
      'api_keys.secret_hash',
      'api_keys.expires_at',
      'api_keys.revoked_at',
      'api_keys.last_used_at',
      'users.username',
      'users.status',
    ])
    .where('api_keys.id', '=', id)
    .executeTakeFirst();
}

export async function touchApiKey(db: Db, id: string, userId: string, now: number): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', id).execute();
  await db.updateTable('users').set({ last_seen_at: now }).where('id', '=', userId).execute();
}

export async function revokeApiKey(db: Db, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function findToken(db: Db, id: string) {
  return db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select(['api_keys.id', 'api_keys.user_id', 'api_keys.name', 'api_keys.revoked_at', 'users.username'])
    .where('api_keys.id', '=', id)
    .where('api_keys.kind', '=', 'token')
    .executeTakeFirst();
}

export async function listTokens(
  db: Db,
  filter: { userId?: string; includeRevoked: boolean },
): Promise<ApiKey[]> {
  let query = db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select([
      'api_keys.id',
      'api_keys.name',
      'users.username',
      'api_keys.created_at',
      'api_keys.expires_at',
      'api_keys.last_used_at',
      'api_keys.revoked_at',
    ])
    .where('api_keys.kind', '=', 'token')
    .orderBy('api_keys.created_at', 'desc')
    .orderBy('api_keys.id');
  if (filter.userId) query = query.where('api_keys.user_id', '=', filter.userId);
  if (!filter.includeRevoked) query = query.where('api_keys.revoked_at', 'is', null);
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return (await query.execute()).map((r) => ({
    id: r.id,
    name: r.name,
    username: r.username,
    createdAt: new Date(r.created_at).toISOString(),
    expiresAt: new Date(r.expires_at).toISOString(),
    lastUsedAt: iso(r.last_used_at),
    revokedAt: iso(r.revoked_at),
  }));
}
