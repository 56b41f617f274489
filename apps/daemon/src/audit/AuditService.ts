import { randomUUID } from 'node:crypto';
import { EventEmitter, on } from 'node:events';
import { type AuditEntry, redact, WarrenError } from '@warren/core';
import type { Kysely, Selectable } from 'kysely';
import type { Db } from '../db/database';
import type { AuditLogTable, Database } from '../db/schema';

export interface AuditRecord {
  actorId: string | null;
  actorUsername: string | null;
  action: string;
  target?: { type: string; id: string; name?: string | undefined } | undefined;
  sourceIp: string | null;
  apiKeyId: string | null;
  status: 'ok' | 'error';
  errorCode?: string | undefined;
  /** Before and after, or the input; secrets are redacted before it is stored. */
  diff: unknown;
}

export interface AuditFilter {
  actor?: string | undefined;
  action?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  status?: 'ok' | 'error' | undefined;
  since?: string | undefined;
  until?: string | undefined;
  limit?: number | undefined;
  before?: string | undefined;
}

function toEntry(row: Selectable<AuditLogTable>): AuditEntry {
  return {
    id: row.id,
    time: new Date(row.time).toISOString(),
    actorId: row.actor_id,
    actorUsername: row.actor_username,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    targetName: row.target_name,
    sourceIp: row.source_ip,
    apiKeyId: row.api_key_id,
    status: row.status,
    errorCode: row.error_code,
    diff: JSON.parse(row.diff),
  };
}

/** The audit trail: written after each mutation, then published to live subscribers. */
export class AuditService {
  readonly #events = new EventEmitter();

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {
    this.#events.setMaxListeners(0);
  }

  async record(record: AuditRecord, db: Kysely<Database> = this.db.kysely): Promise<AuditEntry> {
    const row = {
      id: randomUUID(),
      time: this.now(),
      actor_id: record.actorId,
      actor_username: record.actorUsername,
      action: record.action,
      target_type: record.target?.type ?? null,
      target_id: record.target?.id ?? null,
      target_name: record.target?.name ?? null,
      source_ip: record.sourceIp,
      api_key_id: record.apiKeyId,
      status: record.status,
      error_code: record.errorCode ?? null,
      diff: JSON.stringify(redact(record.diff ?? null) ?? null),
    };
    const inserted = await db.insertInto('audit_log').values(row).returning('seq').executeTakeFirstOrThrow();
    const entry = toEntry({ ...row, seq: inserted.seq });
    this.#events.emit('entry', entry);
    return entry;
  }

  async list(filter: AuditFilter): Promise<AuditEntry[]> {
    let query = this.db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .orderBy('seq', 'desc')
      .limit(filter.limit ?? 100);
    if (filter.actor) query = query.where('actor_username', '=', filter.actor);
    if (filter.action) {
      // "users" matches users.create, users.suspend, ...; "users.create" matches exactly.
      const action = filter.action;
      query = query.where((eb) => eb.or([eb('action', '=', action), eb('action', 'like', `${action}.%`)]));
    }
    if (filter.targetType) query = query.where('target_type', '=', filter.targetType);
    if (filter.targetId) query = query.where('target_id', '=', filter.targetId);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.since) query = query.where('time', '>=', Date.parse(filter.since));
    if (filter.until) query = query.where('time', '<', Date.parse(filter.until));
    if (filter.before) {
      const anchor = await this.db.kysely
        .selectFrom('audit_log')
        .select('seq')
        .where('id', '=', filter.before)
        .executeTakeFirst();
      if (!anchor) throw new WarrenError('NOT_FOUND', `No audit entry has the id "${filter.before}".`);
      query = query.where('seq', '<', anchor.seq);
    }
    return (await query.execute()).map(toEntry);
  }

  /** New entries as they are written, until `signal` aborts. */
  async *live(signal: AbortSignal): AsyncGenerator<AuditEntry> {
    try {
      for await (const [entry] of on(this.#events, 'entry', { signal })) yield entry as AuditEntry;
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
  }
}
