import {
  formatPicoUsd,
  type UsageFilter,
  type UsageGrouping,
  type UsageRecord,
  type UsageSummary,
  type UsageTotals,
  WarrenError,
} from '@warren/core';
import { type Actor, canSeeAllAiUsage } from '../auth/policy';
import type { Db } from '../db/database';
import type { UsersService } from '../users/UsersService';
import * as q from './usageQueries';

const CSV_PAGE = 1000;

function toRecord(row: q.InterceptionRow): UsageRecord {
  return {
    id: row.id,
    time: new Date(Number(row.time)).toISOString(),
    username: row.username,
    provider: row.provider,
    providerKind: row.provider_kind,
    model: row.model,
    endpoint: row.endpoint,
    streaming: Boolean(row.streaming),
    credential: row.credential,
    status: row.status,
    error: row.error,
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    cacheReadTokens: Number(row.cache_read_tokens),
    cacheWriteTokens: Number(row.cache_write_tokens),
    costUsd: formatPicoUsd(row.cost_pico_usd),
    ttfbMs: row.ttfb_ms,
    totalMs: row.total_ms,
    overheadMs: row.overhead_ms,
    chatId: row.chat_id,
  };
}

/** The median by nearest rank: an actual observed value, never an interpolation. */
export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length / 2) - 1] ?? null;
}

type SumRow = Awaited<ReturnType<typeof q.sumAllInterceptions>>;

function toTotals(row: SumRow, ttfbs: number[]): UsageTotals {
  return {
    requests: Number(row.requests),
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    cacheReadTokens: Number(row.cache_read_tokens),
    cacheWriteTokens: Number(row.cache_write_tokens),
    costUsd: formatPicoUsd(row.cost_pico_usd),
    p50TtfbMs: median(ttfbs),
  };
}

/** The record of gateway calls: everyone reads their own; owners and auditors read everyone's. */
export class UsageService {
  constructor(
    private readonly db: Db,
    private readonly users: UsersService,
  ) {}

  /** The filter as a query scope, narrowed to the caller's own calls unless they may see all. */
  async scope(actor: Actor, filter: UsageFilter): Promise<q.UsageScope> {
    let userId: string | undefined;
    if (!canSeeAllAiUsage(actor)) {
      if (filter.user !== undefined && filter.user !== actor.username)
        throw new WarrenError(
          'FORBIDDEN',
          "You can only see your own AI usage; owners and auditors see everyone's.",
        );
      userId = actor.userId;
    } else if (filter.user !== undefined) {
      userId = (await this.users.get({ username: filter.user })).id;
    }
    return {
      userId,
      model: filter.model,
      provider: filter.provider,
      chatId: filter.chatId,
      since: filter.since === undefined ? undefined : Date.parse(filter.since),
      until: filter.until === undefined ? undefined : Date.parse(filter.until),
    };
  }

  async list(
    actor: Actor,
    input: UsageFilter & { limit?: number | undefined; offset?: number | undefined },
  ): Promise<UsageRecord[]> {
    const { limit, offset, ...filter } = input;
    const scope = await this.scope(actor, filter);
    const rows = await q.listInterceptions(this.db.kysely, scope, { limit: limit ?? 100, offset });
    return rows.map(toRecord);
  }

  /** Every call in the scope, newest first, read a page at a time (for exports). */
  async *records(scope: q.UsageScope): AsyncGenerator<UsageRecord> {
    let after: { time: number; id: string } | undefined;
    for (;;) {
      const rows = await q.listInterceptions(this.db.kysely, scope, { limit: CSV_PAGE, after });
      for (const row of rows) yield toRecord(row);
      const last = rows.at(-1);
      if (!last || rows.length < CSV_PAGE) return;
      after = { time: Number(last.time), id: last.id };
    }
  }

  async summary(actor: Actor, input: UsageFilter & { groupBy: UsageGrouping }): Promise<UsageSummary> {
    const { groupBy, ...filter } = input;
    const scope = await this.scope(actor, filter);
    const k = this.db.kysely;
    const [groups, all, ttfbs] = await Promise.all([
      q.sumInterceptions(k, scope, groupBy),
      q.sumAllInterceptions(k, scope),
      q.timesToFirstByte(k, scope, groupBy),
    ]);
    const byKey = new Map<string, number[]>();
    for (const { key, ttfb_ms } of ttfbs) {
      const label = q.groupLabel(groupBy, key);
      const values = byKey.get(label) ?? [];
      values.push(Number(ttfb_ms));
      byKey.set(label, values);
    }
    return {
      groupBy,
      groups: groups.map((row) => {
        const key = q.groupLabel(groupBy, row.key);
        return { key, ...toTotals(row, byKey.get(key) ?? []) };
      }),
      total: toTotals(
        all,
        ttfbs.map((t) => Number(t.ttfb_ms)),
      ),
    };
  }
}
