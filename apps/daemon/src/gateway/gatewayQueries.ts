import { type Insertable, type Kysely, sql } from 'kysely';
import type { Database, GatewayInterceptionsTable } from '../db/schema';

type Db = Kysely<Database>;

/** Everything the gateway keeps in memory, read in one go (a handful of small tables). */
export async function loadDirectoryRows(db: Db) {
  const [providers, keys, models, userKeys, roleModels, limits] = await Promise.all([
    db.selectFrom('ai_providers').selectAll().where('enabled', '=', 1).orderBy('name').execute(),
    db
      .selectFrom('ai_provider_keys')
      .select(['id', 'provider_id', 'key_encrypted'])
      .orderBy('priority')
      .orderBy('created_at')
      .orderBy('id')
      .execute(),
    db.selectFrom('ai_models').selectAll().where('enabled', '=', 1).orderBy('name').execute(),
    db.selectFrom('user_provider_keys').select(['user_id', 'provider_id', 'key_encrypted']).execute(),
    db.selectFrom('ai_role_models').select(['role', 'pattern']).execute(),
    db
      .selectFrom('ai_limits')
      .select(['user_id', 'daily_budget', 'monthly_budget', 'requests_per_minute', 'tokens_per_minute'])
      .execute(),
  ]);
  return { providers, keys, models, userKeys, roleModels, limits };
}
export type DirectoryRows = Awaited<ReturnType<typeof loadDirectoryRows>>;

/** A user's spend since the start of the UTC day and of the UTC month, in pico-dollars. */
export async function sumSpend(
  db: Db,
  userId: string,
  dayStart: number,
  monthStart: number,
): Promise<{ day: number; month: number }> {
  const since = Math.min(dayStart, monthStart);
  const row = await db
    .selectFrom('gateway_interceptions')
    .select([
      sql<number>`COALESCE(SUM(CASE WHEN time >= ${dayStart} THEN cost_pico_usd ELSE 0 END), 0)`.as('day'),
      sql<number>`COALESCE(SUM(CASE WHEN time >= ${monthStart} THEN cost_pico_usd ELSE 0 END), 0)`.as(
        'month',
      ),
    ])
    .where('user_id', '=', userId)
    .where('time', '>=', since)
    .executeTakeFirst();
  return { day: Number(row?.day ?? 0), month: Number(row?.month ?? 0) };
}

export type InterceptionRow = Insertable<GatewayInterceptionsTable>;

export async function insertInterceptions(db: Db, rows: readonly InterceptionRow[]): Promise<void> {
  await db.insertInto('gateway_interceptions').values(rows).execute();
}
