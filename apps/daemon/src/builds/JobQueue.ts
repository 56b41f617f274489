import { randomUUID } from 'node:crypto';
import { WarrenError } from '@warren/core';
import type { Kysely, Selectable } from 'kysely';
import type { Db } from '../db/database';
import type { Database, JobStatus, ProvisionerJobsTable } from '../db/schema';
import type { EventBus } from '../events/EventBus';

export type Job = Selectable<ProvisionerJobsTable>;
export type JobLogLine = { seq: number; time: number; level: 'info' | 'warn' | 'error'; line: string };
export type JobEvent =
  | { type: 'log'; log: JobLogLine }
  | { type: 'end'; status: JobStatus; error: string | null };

export const TERMINAL: readonly JobStatus[] = ['succeeded', 'failed', 'canceled'];
/** A job whose runner vanished is retried once, then failed: provisioners are idempotent. */
export const MAX_ATTEMPTS = 2;
const MAX_LINE = 4096;
const ACQUIRE_PAGE = 50;

function tagsMatch(required: Record<string, string>, offered: Record<string, string>): boolean {
  return Object.entries(required).every(([k, v]) => offered[k] === v);
}

/**
 * The persisted provisioner job queue. A runner takes a pending job under a lease and renews
 * it; a job whose lease lapses (its runner was killed) is found by `recoverExpired` and
 * retried or failed. Every state change is a compare-and-set on (id, status, worker), so two
 * runners never both own a job, on SQLite or PostgreSQL.
 */
export class JobQueue {
  readonly #nextSeq = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly now: () => number = Date.now,
  ) {}

  async enqueue(
    trx: Kysely<Database>,
    kind: string,
    input: unknown,
    tags: Record<string, string>,
  ): Promise<string> {
    const id = randomUUID();
    await trx
      .insertInto('provisioner_jobs')
      .values({
        id,
        kind,
        status: 'pending',
        input: JSON.stringify(input),
        tags: JSON.stringify(tags),
        worker_id: null,
        lease_expires_at: null,
        error: null,
        cancel_requested_at: null,
        created_at: this.now(),
        started_at: null,
        completed_at: null,
      })
      .execute();
    return id;
  }

  /** Tells idle runners to look now rather than at their next poll. */
  announce(): void {
    this.bus.publish('jobs:new', null);
  }

  async get(id: string): Promise<Job | undefined> {
    return this.db.kysely.selectFrom('provisioner_jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async acquire(
    workerId: string,
    offeredTags: Record<string, string>,
    leaseMs: number,
  ): Promise<Job | undefined> {
    // Page through the oldest first: jobs whose tags no runner offers must not hide the ones behind them.
    let after: Pick<Job, 'created_at' | 'id'> | undefined;
    for (;;) {
      let query = this.db.kysely
        .selectFrom('provisioner_jobs')
        .selectAll()
        .where('status', '=', 'pending')
        .orderBy('created_at')
        .orderBy('id')
        .limit(ACQUIRE_PAGE);
      const from = after;
      if (from)
        query = query.where((eb) =>
          eb.or([
            eb('created_at', '>', from.created_at),
            eb.and([eb('created_at', '=', from.created_at), eb('id', '>', from.id)]),
          ]),
        );
      const candidates = await query.execute();
      for (const job of candidates) {
        if (!tagsMatch(JSON.parse(job.tags), offeredTags)) continue;
        const now = this.now();
        const taken = await this.db.kysely
          .updateTable('provisioner_jobs')
          .set((eb) => ({
            status: 'running',
            worker_id: workerId,
            lease_expires_at: now + leaseMs,
            started_at: now,
            attempts: eb('attempts', '+', 1),
          }))
          .where('id', '=', job.id)
          .where('status', '=', 'pending')
          .executeTakeFirst();
        if (Number(taken.numUpdatedRows) === 1) return this.get(job.id);
      }
      if (candidates.length < ACQUIRE_PAGE) return undefined;
      after = candidates.at(-1);
    }
  }

  /** Extends the lease; says whether the runner still owns the job and whether cancel was asked. */
  async renew(id: string, workerId: string, leaseMs: number): Promise<{ owned: boolean; cancel: boolean }> {
    const result = await this.db.kysely
      .updateTable('provisioner_jobs')
      .set({ lease_expires_at: this.now() + leaseMs })
      .where('id', '=', id)
      .where('worker_id', '=', workerId)
      .where('status', '=', 'running')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return { owned: false, cancel: true };
    const job = await this.get(id);
    return { owned: true, cancel: job?.cancel_requested_at != null };
  }

  /** Persists log lines in order, then publishes them. Only the job's owner writes its logs. */
  async appendLogs(id: string, lines: { level: 'info' | 'warn' | 'error'; line: string }[]): Promise<void> {
    if (lines.length === 0) return;
    let seq = this.#nextSeq.get(id);
    if (seq === undefined) {
      const row = await this.db.kysely
        .selectFrom('job_logs')
        .select((eb) => eb.fn.max<number>('seq').as('max'))
        .where('job_id', '=', id)
        .executeTakeFirst();
      seq = Number(row?.max ?? 0) + 1;
    }
    const time = this.now();
    const rows = lines.map((l, i) => ({
      job_id: id,
      seq: seq + i,
      time,
      level: l.level,
      line: l.line.slice(0, MAX_LINE),
    }));
    this.#nextSeq.set(id, seq + rows.length);
    await this.db.kysely.insertInto('job_logs').values(rows).execute();
    for (const r of rows) {
      this.bus.publish(`job:${id}`, {
        type: 'log',
        log: { seq: r.seq, time, level: r.level, line: r.line },
      } satisfies JobEvent);
    }
  }

  async logsAfter(id: string, afterSeq: number): Promise<JobLogLine[]> {
    return this.db.kysely
      .selectFrom('job_logs')
      .select(['seq', 'time', 'level', 'line'])
      .where('job_id', '=', id)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .execute();
  }

  /**
   * Ends a running job. `apply` runs inside the same transaction, so the job's outcome and what
   * it changed (the build's state, the workspace) are committed together or not at all.
   */
  async finish(
    id: string,
    workerId: string,
    outcome: { status: 'succeeded' | 'failed' | 'canceled'; error?: string | undefined },
    apply: (trx: Kysely<Database>) => Promise<void> = async () => {},
  ): Promise<boolean> {
    const done = await this.db.kysely.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('provisioner_jobs')
        .set({
          status: outcome.status,
          error: outcome.error ?? null,
          completed_at: this.now(),
          lease_expires_at: null,
        })
        .where('id', '=', id)
        .where('worker_id', '=', workerId)
        .where('status', '=', 'running')
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      await apply(trx);
      return true;
    });
    if (done) this.#ended(id, outcome.status, outcome.error ?? null);
    return done;
  }

  #ended(id: string, status: JobStatus, error: string | null): void {
    this.#nextSeq.delete(id);
    this.bus.publish(`job:${id}`, { type: 'end', status, error } satisfies JobEvent);
    this.bus.publish('jobs:ended', { id, status });
  }

  /** Cancel: a pending job ends now; a running one is asked to stop at its next lease renewal. */
  async cancel(id: string): Promise<JobStatus> {
    const now = this.now();
    const pending = await this.db.kysely
      .updateTable('provisioner_jobs')
      .set({ status: 'canceled', completed_at: now, error: 'Canceled before it started.' })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (Number(pending.numUpdatedRows) === 1) {
      this.#ended(id, 'canceled', 'Canceled before it started.');
      return 'canceled';
    }
    await this.db.kysely
      .updateTable('provisioner_jobs')
      .set({ cancel_requested_at: now })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .execute();
    const job = await this.get(id);
    if (!job) throw new WarrenError('NOT_FOUND', `No provisioner job has the id "${id}".`);
    return job.status;
  }

  /**
   * Jobs whose runner stopped renewing (killed, crashed, lost its database): retried while
   * attempts remain, else failed with a sentence. Returns the jobs it failed.
   */
  async recoverExpired(onFailed: (job: Job, trx: Kysely<Database>) => Promise<void>): Promise<Job[]> {
    const now = this.now();
    const expired = await this.db.kysely
      .selectFrom('provisioner_jobs')
      .selectAll()
      .where('status', '=', 'running')
      .where('lease_expires_at', '<', now)
      .execute();
    const failed: Job[] = [];
    for (const job of expired) {
      const retry = job.attempts < MAX_ATTEMPTS && job.cancel_requested_at === null;
      const message = retry
        ? `The provisioner running this build stopped; retrying (attempt ${job.attempts + 1} of ${MAX_ATTEMPTS}).`
        : 'The provisioner running this build stopped and the build was not retried again; start the workspace again.';
      const changed = await this.db.kysely.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable('provisioner_jobs')
          .set(
            retry
              ? { status: 'pending', worker_id: null, lease_expires_at: null }
              : {
                  status: job.cancel_requested_at ? 'canceled' : 'failed',
                  error: message,
                  completed_at: now,
                  lease_expires_at: null,
                },
          )
          .where('id', '=', job.id)
          .where('status', '=', 'running')
          .where('lease_expires_at', '<', now)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) return false;
        if (!retry) await onFailed(job, trx);
        return true;
      });
      if (!changed) continue;
      this.#nextSeq.delete(job.id);
      await this.appendLogs(job.id, [{ level: retry ? 'warn' : 'error', line: message }]);
      if (retry) this.announce();
      else {
        this.#ended(job.id, job.cancel_requested_at ? 'canceled' : 'failed', message);
        failed.push(job);
      }
    }
    return failed;
  }
}
