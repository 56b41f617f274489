import type { BuildService } from '../builds/BuildService';
import type { JobQueue } from '../builds/JobQueue';
import type { Db } from '../db/database';
import type { Logger } from '../log/logger';
import { nextAutostart, type WorkspacesService } from './WorkspacesService';

/**
 * The daemon's clock-driven work: autostop at deadlines, autostart by cron, and recovery of
 * jobs whose runner vanished. Each scheduled transition is made in one transaction that also
 * moves the schedule forward, so it happens exactly once even across restarts and replicas.
 */
export class Scheduler {
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly workspaces: WorkspacesService,
    private readonly builds: BuildService,
    private readonly queue: JobQueue,
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.#timer ??= setInterval(() => {
      this.#ticking ??= this.tick()
        .catch((error) => this.log.error({ err: error }, 'scheduler tick failed'))
        .finally(() => {
          this.#ticking = undefined;
        });
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#ticking;
  }

  async tick(): Promise<void> {
    await this.queue.recoverExpired((job, trx) => this.builds.failLapsed(job, trx));
    const now = this.now();

    const due = await this.db.kysely
      .selectFrom('workspaces')
      .select(['id', 'name'])
      .where('deleted_at', 'is', null)
      .where('deadline', 'is not', null)
      .where('deadline', '<=', now)
      .execute();
    for (const ws of due) {
      await this.workspaces
        .transition(null, ws.id, 'stop', {
          reason: 'autostop',
          onlyIf: ['running'],
          extra: async (trx) => {
            await trx.updateTable('workspaces').set({ deadline: null }).where('id', '=', ws.id).execute();
          },
        })
        .then((made) => made && this.log.info({ workspace: ws.id }, 'autostop: stopping an idle workspace'))
        .catch((error) =>
          this.log.warn({ err: error, workspace: ws.id }, 'autostop could not stop a workspace'),
        );
    }

    const starting = await this.db.kysely
      .selectFrom('workspaces')
      .select(['id', 'autostart_cron', 'autostart_timezone'])
      .where('deleted_at', 'is', null)
      .where('next_autostart_at', 'is not', null)
      .where('next_autostart_at', '<=', now)
      .execute();
    for (const ws of starting) {
      if (!ws.autostart_cron || !ws.autostart_timezone) continue;
      const next = nextAutostart({ cron: ws.autostart_cron, timezone: ws.autostart_timezone }, now);
      await this.workspaces
        .transition(null, ws.id, 'start', {
          reason: 'autostart',
          onlyIf: ['stopped', 'failed', 'canceled'],
          // The schedule moves forward in the same transaction, started or not: never twice.
          extra: async (trx) => {
            await trx
              .updateTable('workspaces')
              .set({ next_autostart_at: next })
              .where('id', '=', ws.id)
              .where('next_autostart_at', '<=', now)
              .execute();
          },
        })
        .then(
          (made) =>
            made && this.log.info({ workspace: ws.id }, 'autostart: starting a workspace on schedule'),
        )
        .catch((error) =>
          this.log.warn({ err: error, workspace: ws.id }, 'autostart could not start a workspace'),
        );
    }
  }
}
