import type { UsageGrouping } from '@warren/core';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../db/schema';

type Db = Kysely<Database>;

/** Which gateway calls, resolved: a user id rather than a name, times in epoch milliseconds. */
export interface UsageScope {
  userId?: string | undefined;
  model?: string | undefined;
  provider?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
  chatId?: string | undefined;
}

/** Interceptions (g) with their user (u) and provider (p), narrowed to the scope. */
function scoped(db: Db, scope: UsageScope) {
  let query = db
    .selectFrom('gateway_interceptions as g')
    .leftJoin('users as u', 'u.id', 'g.user_id')
    .leftJoin('ai_providers as p', 'p.id', 'g.provider_id');
  if (scope.userId !== undefined) query = query.where('g.user_id', '=', scope.userId);
  if (scope.model !== undefined) query = query.where('g.model', '=', scope.model);
  if (scope.provider !== undefined) query = query.where('p.name', '=', scope.provider);
  if (scope.chatId !== undefined) query = query.where('g.chat_id', '=', scope.chatId);
  if (scope.since !== undefined) query = query.where('g.time', '>=', scope.since);
  if (scope.until !== undefined) query = query.where('g.time', '<', scope.until);
  return query;
}

/** Newest first; `after` continues a listing past the last row it returned. */
export async function listInterceptions(
  db: Db,
  scope: UsageScope,
  page: { limit: number; offset?: number; after?: { time: number; id: string } },
) {
  let query = scoped(db, scope)
    .select([
      'g.id',
      'g.time',
      'u.username',
      'p.name as provider',
      'g.provider_kind',
      'g.model',
      'g.endpoint',
      'g.streaming',
      'g.credential',
      'g.status',
      'g.error',
      'g.input_tokens',
      'g.output_tokens',
      'g.cache_read_tokens',
      'g.cache_write_tokens',
      'g.ttfb_ms',
      'g.total_ms',
      'g.overhead_ms',
      'g.chat_id',
    ])
    // Pico-dollars outgrow a double's exact range in a single large call; read them as text.
    .select(sql<string>`CAST(g.cost_pico_usd AS TEXT)`.as('cost_pico_usd'))
    .orderBy('g.time', 'desc')
    .orderBy('g.id', 'desc')
    .limit(page.limit);
  const after = page.after;
  if (after)
    query = query.where((eb) =>
      eb.or([
        eb('g.time', '<', after.time),
        eb.and([eb('g.time', '=', after.time), eb('g.id', '<', after.id)]),
      ]),
    );
  if (page.offset) query = query.offset(page.offset);
  return query.execute();
}
export type InterceptionRow = Awaited<ReturnType<typeof listInterceptions>>[number];

const DAY_MS = 86_400_000;

/**
 * The group key as SQL. Literals are written into the text, not bound: PostgreSQL matches a
 * selected expression to its GROUP BY only when both are the same text.
 */
function groupKey(groupBy: UsageGrouping): RawBuilder<string | number> {
  if (groupBy === 'user') return sql`COALESCE(u.username, g.user_id)`;
  if (groupBy === 'model') return sql`COALESCE(p.name, g.provider_kind) || '/' || g.model`;
  return sql.raw(`g.time / ${DAY_MS}`);
}

/** A day number (days since the epoch) as YYYY-MM-DD in UTC; other keys as they are. */
export function groupLabel(groupBy: UsageGrouping, key: string | number): string {
  return groupBy === 'day' ? new Date(Number(key) * DAY_MS).toISOString().slice(0, 10) : String(key);
}

function totals() {
  return [
    sql<number>`COUNT(*)`.as('requests'),
    sql<number>`COALESCE(SUM(g.input_tokens), 0)`.as('input_tokens'),
    sql<number>`COALESCE(SUM(g.output_tokens), 0)`.as('output_tokens'),
    sql<number>`COALESCE(SUM(g.cache_read_tokens), 0)`.as('cache_read_tokens'),
    sql<number>`COALESCE(SUM(g.cache_write_tokens), 0)`.as('cache_write_tokens'),
    sql<string>`CAST(COALESCE(SUM(g.cost_pico_usd), 0) AS TEXT)`.as('cost_pico_usd'),
  ] as const;
}

export async function sumInterceptions(db: Db, scope: UsageScope, groupBy: UsageGrouping) {
  const key = groupKey(groupBy);
  const query = scoped(db, scope).select(key.as('key')).select(totals()).groupBy(key);
  // Days in order; people and models by what they cost, most first.
  if (groupBy === 'day') return query.orderBy(key).execute();
  return query.orderBy(sql`SUM(g.cost_pico_usd)`, 'desc').orderBy(key).execute();
}

export async function sumAllInterceptions(db: Db, scope: UsageScope) {
  return scoped(db, scope).select(totals()).executeTakeFirstOrThrow();
}

/** Every time to first byte in the scope with its group key, for medians. */
export async function timesToFirstByte(db: Db, scope: UsageScope, groupBy: UsageGrouping) {
  return scoped(db, scope)
    .select(groupKey(groupBy).as('key'))
    .select('g.ttfb_ms')
    .where('g.ttfb_ms', 'is not', null)
    .execute();
}
