import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import type {
  AiLimitsTable,
  AiModelsTable,
  AiProviderKeysTable,
  AiProvidersTable,
  Database,
} from '../db/schema';

type Db = Kysely<Database>;
export type ProviderRow = Selectable<AiProvidersTable>;
export type ProviderKeyRow = Selectable<AiProviderKeysTable>;
export type ModelRow = Selectable<AiModelsTable>;

export async function listProviders(db: Db): Promise<ProviderRow[]> {
  return db.selectFrom('ai_providers').selectAll().orderBy('name').execute();
}

export async function findProvider(db: Db, name: string): Promise<ProviderRow | undefined> {
  return db.selectFrom('ai_providers').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function insertProvider(db: Db, row: Insertable<AiProvidersTable>): Promise<void> {
  await db.insertInto('ai_providers').values(row).execute();
}

export async function updateProvider(db: Db, id: string, changes: Updateable<AiProvidersTable>) {
  await db.updateTable('ai_providers').set(changes).where('id', '=', id).execute();
}

/** Its keys, models and people's own keys go with it (foreign keys cascade). */
export async function deleteProvider(db: Db, id: string): Promise<void> {
  await db.deleteFrom('ai_providers').where('id', '=', id).execute();
}

/** Central keys without their encrypted values, in the order the gateway tries them. */
export async function listProviderKeys(db: Db, providerId?: string) {
  let query = db
    .selectFrom('ai_provider_keys')
    .select(['id', 'provider_id', 'priority', 'key_last4', 'created_at'])
    .orderBy('priority')
    .orderBy('created_at')
    .orderBy('id');
  if (providerId) query = query.where('provider_id', '=', providerId);
  return query.execute();
}

export async function insertProviderKey(db: Db, row: Insertable<AiProviderKeysTable>): Promise<void> {
  await db.insertInto('ai_provider_keys').values(row).execute();
}

export async function deleteProviderKey(db: Db, providerId: string, id: string): Promise<boolean> {
  const result = await db
    .deleteFrom('ai_provider_keys')
    .where('provider_id', '=', providerId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Models with their provider's name, kind and state. */
export function modelsWithProvider(db: Db) {
  return db
    .selectFrom('ai_models as m')
    .innerJoin('ai_providers as p', 'p.id', 'm.provider_id')
    .selectAll('m')
    .select(['p.name as provider_name', 'p.kind as provider_kind', 'p.byok as provider_byok'])
    .select(['p.enabled as provider_enabled'])
    .orderBy('p.name')
    .orderBy('m.name');
}
export type ModelWithProviderRow = Awaited<
  ReturnType<ReturnType<typeof modelsWithProvider>['execute']>
>[number];

export async function findModel(db: Db, providerId: string, name: string): Promise<ModelRow | undefined> {
  return db
    .selectFrom('ai_models')
    .selectAll()
    .where('provider_id', '=', providerId)
    .where('name', '=', name)
    .executeTakeFirst();
}

export async function insertModel(db: Db, row: Insertable<AiModelsTable>): Promise<void> {
  await db.insertInto('ai_models').values(row).execute();
}

export async function updateModel(db: Db, id: string, changes: Updateable<AiModelsTable>): Promise<void> {
  await db.updateTable('ai_models').set(changes).where('id', '=', id).execute();
}

export async function deleteModel(db: Db, id: string): Promise<void> {
  await db.deleteFrom('ai_models').where('id', '=', id).execute();
}

export async function countModelsByProvider(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('ai_models')
    .select(['provider_id', db.fn.countAll<number>().as('count')])
    .groupBy('provider_id')
    .execute();
  return new Map(rows.map((r) => [r.provider_id, Number(r.count)]));
}

/** A person's own keys, without the encrypted values. */
export async function listUserKeys(db: Db, userId: string) {
  return db
    .selectFrom('user_provider_keys')
    .select(['provider_id', 'key_last4', 'created_at'])
    .where('user_id', '=', userId)
    .execute();
}

/** Sets a person's key for a provider, replacing the one they had. */
export async function upsertUserKey(
  db: Db,
  row: { user_id: string; provider_id: string; key_encrypted: string; key_last4: string; created_at: number },
): Promise<void> {
  await db
    .insertInto('user_provider_keys')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['user_id', 'provider_id']).doUpdateSet({
        key_encrypted: row.key_encrypted,
        key_last4: row.key_last4,
        created_at: row.created_at,
      }),
    )
    .execute();
}

export async function deleteUserKey(db: Db, userId: string, providerId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('user_provider_keys')
    .where('user_id', '=', userId)
    .where('provider_id', '=', providerId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function listRoleModels(db: Db) {
  return db.selectFrom('ai_role_models').selectAll().orderBy('role').orderBy('pattern').execute();
}

export async function replaceRoleModels(db: Db, role: string, patterns: readonly string[]): Promise<void> {
  await db.deleteFrom('ai_role_models').where('role', '=', role).execute();
  if (patterns.length)
    await db
      .insertInto('ai_role_models')
      .values(patterns.map((pattern) => ({ role, pattern })))
      .execute();
}

/** Limits rows with the username of a user's row ('*' has none). */
export async function listLimits(db: Db) {
  return db
    .selectFrom('ai_limits as l')
    .leftJoin('users as u', 'u.id', 'l.user_id')
    .selectAll('l')
    .select('u.username')
    .orderBy('l.user_id')
    .execute();
}

export async function findLimits(db: Db, userId: string) {
  return db.selectFrom('ai_limits').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

export async function upsertLimits(db: Db, row: Insertable<AiLimitsTable>): Promise<void> {
  const { user_id: _user, ...changes } = row;
  await db
    .insertInto('ai_limits')
    .values(row)
    .onConflict((oc) => oc.column('user_id').doUpdateSet(changes))
    .execute();
}

export async function deleteLimits(db: Db, userId: string): Promise<void> {
  await db.deleteFrom('ai_limits').where('user_id', '=', userId).execute();
}
