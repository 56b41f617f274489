import { randomUUID } from 'node:crypto';
import {
  durationMs,
  type ParameterValue,
  resolveParameters,
  type TemplateManifest,
  WarrenError,
  type WorkspaceStatus,
} from '@warren/core';
import { Cron } from 'croner';
import type { Kysely } from 'kysely';
import { type Actor, authorizeWorkspace, canSeeAllWorkspaces } from '../auth/policy';
import type { BuildService } from '../builds/BuildService';
import { type JobEvent, type JobLogLine, type JobQueue, TERMINAL } from '../builds/JobQueue';
import type { Db } from '../db/database';
import { isUniqueViolation } from '../db/errors';
import type { BuildTransition, Database } from '../db/schema';
import type { EventBus } from '../events/EventBus';
import type { TemplatesService } from '../templates/TemplatesService';
import { toWorkspaceView, type WorkspaceView, workspaceViewQuery } from './workspaceView';

export interface WorkspaceRef {
  owner?: string | undefined;
  name: string;
}

export interface Autostart {
  cron: string;
  timezone: string;
}

/** Validates a cron expression and time zone, and gives the next time after `from`. */
export function nextAutostart(schedule: Autostart, from: number): number {
  let cron: Cron;
  try {
    cron = new Cron(schedule.cron, { timezone: schedule.timezone, paused: true });
  } catch (error) {
    throw new WarrenError(
      'INVALID_INPUT',
      `Autostart schedule "${schedule.cron}" in ${schedule.timezone} is not valid: ${(error as Error).message}`,
    );
  }
  const next = cron.nextRun(new Date(from));
  if (!next) throw new WarrenError('INVALID_INPUT', `Autostart schedule "${schedule.cron}" never fires.`);
  return next.getTime();
}

function paramErrors(errors: { parameter: string; message: string }[]): WarrenError {
  return new WarrenError('INVALID_INPUT', errors.map((e) => `${e.parameter}: ${e.message}`).join('\n'));
}

/** Workspace lifecycle: every transition is a build, recorded with its initiator and parameters. */
export class WorkspacesService {
  constructor(
    private readonly db: Db,
    private readonly templates: TemplatesService,
    private readonly builds: BuildService,
    private readonly queue: JobQueue,
    private readonly bus: EventBus,
    private readonly quota: number,
    private readonly now: () => number = Date.now,
  ) {}

  async #ownerId(actor: Actor, owner: string | undefined): Promise<string> {
    if (!owner || owner === actor.username) return actor.userId;
    const user = await this.db.kysely
      .selectFrom('users')
      .select('id')
      .where('username', '=', owner)
      .executeTakeFirst();
    if (!user) throw new WarrenError('NOT_FOUND', `No user is named "${owner}".`);
    return user.id;
  }

  async get(actor: Actor, ref: WorkspaceRef, access: 'read' | 'write' = 'read'): Promise<WorkspaceView> {
    const ownerId = await this.#ownerId(actor, ref.owner);
    authorizeWorkspace(actor, ownerId, access);
    const row = await workspaceViewQuery(this.db.kysely)
      .where('w.owner_id', '=', ownerId)
      .where('w.name', '=', ref.name)
      .where('w.deleted_at', 'is', null)
      .executeTakeFirst();
    if (!row)
      throw new WarrenError(
        'NOT_FOUND',
        `No workspace is named "${ref.owner ? `${ref.owner}/` : ''}${ref.name}".`,
      );
    return toWorkspaceView(row);
  }

  async byId(id: string): Promise<WorkspaceView | undefined> {
    const row = await workspaceViewQuery(this.db.kysely).where('w.id', '=', id).executeTakeFirst();
    return row ? toWorkspaceView(row) : undefined;
  }

  async list(
    actor: Actor,
    filter: { owner?: string; all?: boolean; search?: string; status?: WorkspaceStatus; template?: string },
  ): Promise<WorkspaceView[]> {
    let query = workspaceViewQuery(this.db.kysely)
      .where('w.deleted_at', 'is', null)
      .orderBy('u.username')
      .orderBy('w.name');
    if (filter.all) {
      if (!canSeeAllWorkspaces(actor))
        throw new WarrenError('FORBIDDEN', "Only owners and auditors can list everyone's workspaces.");
    } else {
      const ownerId = await this.#ownerId(actor, filter.owner);
      authorizeWorkspace(actor, ownerId, 'read');
      query = query.where('w.owner_id', '=', ownerId);
    }
    if (filter.search) query = query.where('w.name', 'like', `%${filter.search.replace(/[%_\\]/g, '')}%`);
    if (filter.template) query = query.where('t.name', '=', filter.template);
    const views = (await query.execute()).map(toWorkspaceView);
    return filter.status ? views.filter((w) => w.status === filter.status) : views;
  }

  async create(
    actor: Actor,
    input: {
      name: string;
      template: string;
      parameters: Record<string, unknown>;
      autostopMinutes?: number | undefined;
      autostart?: Autostart | undefined;
    },
  ): Promise<WorkspaceView> {
    const { template, version, manifest } = await this.templates.version(input.template);
    const resolved = resolveParameters(manifest.parameters, input.parameters, {});
    if (!resolved.ok) throw paramErrors(resolved.errors);
    const ttlMs = this.#ttl(manifest, input.autostopMinutes);
    if (input.autostart && !manifest.schedule.autostartAllowed) {
      throw new WarrenError('INVALID_INPUT', `Template "${template.name}" does not allow autostart.`);
    }
    const now = this.now();
    const next = input.autostart ? nextAutostart(input.autostart, now) : null;
    const id = randomUUID();
    try {
      await this.db.kysely.transaction().execute(async (trx) => {
        const count = await trx
          .selectFrom('workspaces')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('owner_id', '=', actor.userId)
          .where('deleted_at', 'is', null)
          .executeTakeFirst();
        if (Number(count?.n ?? 0) >= this.quota) {
          throw new WarrenError(
            'CONFLICT',
            `You have reached your quota of ${this.quota} workspaces; delete one first.`,
          );
        }
        await trx
          .insertInto('workspaces')
          .values({
            id,
            owner_id: actor.userId,
            name: input.name,
            template_id: template.id,
            template_version_id: version.id,
            parameters: JSON.stringify(resolved.values),
            latest_build_id: null,
            ttl_ms: ttlMs,
            deadline: null,
            autostart_cron: input.autostart?.cron ?? null,
            autostart_timezone: input.autostart?.timezone ?? null,
            next_autostart_at: next,
            last_activity_at: now,
            created_at: now,
            updated_at: now,
            deleted_at: null,
          })
          .execute();
        await this.builds.createBuild(trx, {
          workspaceId: id,
          transition: 'start',
          reason: 'initiator',
          initiatorId: actor.userId,
          templateVersionId: version.id,
          parameters: resolved.values,
          tags: manifest.provisioner.tags,
        });
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new WarrenError('CONFLICT', `You already have a workspace named "${input.name}".`);
      throw error;
    }
    this.#changed(id);
    return (await this.byId(id)) as WorkspaceView;
  }

  #ttl(manifest: TemplateManifest, minutes: number | undefined): number | null {
    const max = manifest.schedule.maxTtl ? durationMs(manifest.schedule.maxTtl) : undefined;
    const wanted =
      minutes === undefined
        ? manifest.schedule.defaultTtl
          ? durationMs(manifest.schedule.defaultTtl)
          : null
        : minutes * 60_000;
    if (wanted === 0 || wanted === null) {
      if (max !== undefined)
        throw new WarrenError(
          'INVALID_INPUT',
          `This template requires autostop of at most ${manifest.schedule.maxTtl}.`,
        );
      return null;
    }
    if (max !== undefined && wanted > max) {
      throw new WarrenError(
        'INVALID_INPUT',
        `Autostop may be at most ${manifest.schedule.maxTtl} for this template.`,
      );
    }
    return wanted;
  }

  /**
   * Starts a transition as a new build. The busy check and the build insert share one
   * transaction, and build numbers are unique per workspace, so of two concurrent transitions
   * exactly one wins and the other gets CONFLICT.
   */
  async transition(
    actor: Actor | null,
    workspaceId: string,
    transition: BuildTransition,
    options: {
      reason?: 'initiator' | 'autostop' | 'autostart';
      startAfter?: boolean;
      orphan?: boolean;
      templateVersionId?: string;
      parameters?: Record<string, ParameterValue>;
      /** Only if the workspace is in one of these states (scheduled transitions). */
      onlyIf?: WorkspaceStatus[];
      extra?: (trx: Kysely<Database>) => Promise<void>;
    } = {},
  ): Promise<boolean> {
    try {
      const made = await this.db.kysely.transaction().execute(async (trx) => {
        // PostgreSQL reads each statement afresh: lock the workspace so a concurrent transition
        // waits, then sees this one's build. (SQLite runs one transaction at a time anyway.)
        if (this.db.dialect === 'postgres') {
          await trx.selectFrom('workspaces').select('id').where('id', '=', workspaceId).forUpdate().execute();
        }
        const current = await workspaceViewQuery(trx)
          .where('w.id', '=', workspaceId)
          .where('w.deleted_at', 'is', null)
          .executeTakeFirst();
        if (!current) throw new WarrenError('NOT_FOUND', 'The workspace no longer exists.');
        const view = toWorkspaceView(current);
        if (options.onlyIf && !options.onlyIf.includes(view.status)) {
          await options.extra?.(trx);
          return false;
        }
        if (!TERMINAL.includes(view.latestBuild.jobStatus)) {
          throw new WarrenError(
            'CONFLICT',
            `Workspace "${view.name}" is busy: build ${view.latestBuild.number} (${view.latestBuild.transition}) is ${view.status}. Wait for it or cancel it.`,
          );
        }
        if (transition === 'start' && view.status === 'running' && !options.templateVersionId) {
          throw new WarrenError('CONFLICT', `Workspace "${view.name}" is already running.`);
        }
        if (transition === 'stop' && view.status === 'stopped') {
          throw new WarrenError('CONFLICT', `Workspace "${view.name}" is already stopped.`);
        }
        const build = await trx
          .selectFrom('workspace_builds')
          .selectAll()
          .where('workspace_id', '=', workspaceId)
          .orderBy('number', 'desc')
          .limit(1)
          .executeTakeFirstOrThrow();
        const templateVersionId = options.templateVersionId ?? build.template_version_id;
        const version = await trx
          .selectFrom('template_versions')
          .select('manifest')
          .where('id', '=', templateVersionId)
          .executeTakeFirstOrThrow();
        await this.builds.createBuild(trx, {
          workspaceId,
          transition,
          reason: options.reason ?? 'initiator',
          initiatorId: actor?.userId ?? null,
          templateVersionId,
          parameters: options.parameters ?? JSON.parse(build.parameters),
          tags: (JSON.parse(version.manifest) as TemplateManifest).provisioner.tags,
          ...(options.startAfter ? { startAfter: true } : {}),
          ...(options.orphan ? { orphan: true } : {}),
        });
        await options.extra?.(trx);
        return true;
      });
      if (made) this.#changed(workspaceId);
      return made;
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new WarrenError(
          'CONFLICT',
          'Another transition of this workspace started at the same moment; try again.',
        );
      }
      throw error;
    }
  }

  async start(actor: Actor, ref: WorkspaceRef) {
    const ws = await this.get(actor, ref, 'write');
    await this.transition(actor, ws.id, 'start');
    return this.get(actor, ref);
  }

  async stop(actor: Actor, ref: WorkspaceRef) {
    const ws = await this.get(actor, ref, 'write');
    await this.transition(actor, ws.id, 'stop');
    return this.get(actor, ref);
  }

  async restart(actor: Actor, ref: WorkspaceRef) {
    const ws = await this.get(actor, ref, 'write');
    if (ws.status !== 'running')
      throw new WarrenError('CONFLICT', `Workspace "${ws.name}" is ${ws.status}; start it instead.`);
    await this.transition(actor, ws.id, 'stop', { startAfter: true });
    return this.get(actor, ref);
  }

  /** Moves to the active template version, keeping parameters and asking only for new required ones. */
  async update(actor: Actor, ref: WorkspaceRef, given: Record<string, unknown>) {
    const ws = await this.get(actor, ref, 'write');
    const { version, manifest } = await this.templates.version(ws.template);
    const resolved = resolveParameters(manifest.parameters, given, { previous: ws.parameters });
    if (!resolved.ok) throw paramErrors(resolved.errors);
    const options = { templateVersionId: version.id, parameters: resolved.values };
    if (ws.status === 'running')
      await this.transition(actor, ws.id, 'stop', { ...options, startAfter: true });
    else await this.transition(actor, ws.id, 'start', options);
    return this.get(actor, ref);
  }

  async delete(actor: Actor, ref: WorkspaceRef, orphan: boolean) {
    const ws = await this.get(actor, ref, 'write');
    await this.transition(actor, ws.id, 'delete', { orphan });
    return this.get(actor, ref);
  }

  async cancel(actor: Actor, ref: WorkspaceRef) {
    const ws = await this.get(actor, ref, 'write');
    const build = await this.#build(ws.id, ws.latestBuild.number);
    if (TERMINAL.includes(ws.latestBuild.jobStatus))
      throw new WarrenError('CONFLICT', `Workspace "${ws.name}" has no build in progress.`);
    await this.queue.cancel(build.job_id);
    this.#changed(ws.id);
    return this.get(actor, ref);
  }

  async setSchedule(
    actor: Actor,
    ref: WorkspaceRef,
    input: { autostopMinutes?: number | undefined; autostart?: Autostart | null | undefined },
  ) {
    const ws = await this.get(actor, ref, 'write');
    const { manifest } = await this.templates.version(ws.template);
    const now = this.now();
    const patch: Partial<Database['workspaces']> = { updated_at: now };
    if (input.autostopMinutes !== undefined) {
      patch.ttl_ms = this.#ttl(manifest, input.autostopMinutes);
      patch.deadline = ws.status === 'running' && patch.ttl_ms ? now + patch.ttl_ms : null;
    }
    if (input.autostart === null)
      Object.assign(patch, { autostart_cron: null, autostart_timezone: null, next_autostart_at: null });
    else if (input.autostart) {
      if (!manifest.schedule.autostartAllowed)
        throw new WarrenError('INVALID_INPUT', `Template "${ws.template}" does not allow autostart.`);
      Object.assign(patch, {
        autostart_cron: input.autostart.cron,
        autostart_timezone: input.autostart.timezone,
        next_autostart_at: nextAutostart(input.autostart, now),
      });
    }
    await this.db.kysely.updateTable('workspaces').set(patch).where('id', '=', ws.id).execute();
    this.#changed(ws.id);
    return this.get(actor, ref);
  }

  /** Real activity (terminal, SSH, tunnel, chat) pushes the autostop deadline back. */
  async bumpActivity(workspaceId: string): Promise<void> {
    const now = this.now();
    const ws = await this.db.kysely
      .selectFrom('workspaces')
      .select(['ttl_ms', 'deadline'])
      .where('id', '=', workspaceId)
      .executeTakeFirst();
    if (!ws) return;
    await this.db.kysely
      .updateTable('workspaces')
      .set({
        last_activity_at: now,
        ...(ws.deadline !== null && ws.ttl_ms ? { deadline: Math.max(ws.deadline, now + ws.ttl_ms) } : {}),
      })
      .where('id', '=', workspaceId)
      .execute();
  }

  async #build(workspaceId: string, number?: number) {
    let query = this.db.kysely
      .selectFrom('workspace_builds')
      .selectAll()
      .where('workspace_id', '=', workspaceId);
    query =
      number === undefined ? query.orderBy('number', 'desc').limit(1) : query.where('number', '=', number);
    const build = await query.executeTakeFirst();
    if (!build) throw new WarrenError('NOT_FOUND', `This workspace has no build ${number ?? ''}.`);
    return build;
  }

  async buildHistory(actor: Actor, ref: WorkspaceRef) {
    const ws = await this.get(actor, ref);
    const rows = await this.db.kysely
      .selectFrom('workspace_builds as b')
      .innerJoin('provisioner_jobs as j', 'j.id', 'b.job_id')
      .innerJoin('template_versions as v', 'v.id', 'b.template_version_id')
      .leftJoin('users as u', 'u.id', 'b.initiator_id')
      .select([
        'b.number',
        'b.transition',
        'b.reason',
        'b.created_at',
        'b.parameters',
        'j.status',
        'j.error',
        'j.completed_at',
        'v.number as version',
        'u.username',
      ])
      .where('b.workspace_id', '=', ws.id)
      .orderBy('b.number', 'desc')
      .execute();
    return rows.map((r) => ({
      number: r.number,
      transition: r.transition,
      reason: r.reason,
      initiator: r.username ?? 'warren',
      templateVersion: r.version,
      parameters: JSON.parse(r.parameters) as Record<string, ParameterValue>,
      status: r.status,
      error: r.error,
      createdAt: new Date(r.created_at).toISOString(),
      completedAt: r.completed_at === null ? null : new Date(r.completed_at).toISOString(),
    }));
  }

  /**
   * A build's log: the persisted backlog, then live lines, with no gap and no duplicate. The
   * subscription starts before the backlog is read, and lines are keyed by their sequence number.
   */
  async *buildLogs(
    actor: Actor,
    ref: WorkspaceRef,
    number: number | undefined,
    afterSeq: number,
    signal: AbortSignal,
  ): AsyncGenerator<JobLogLine | { end: true; status: string; error: string | null }> {
    const ws = await this.get(actor, ref);
    const build = await this.#build(ws.id, number);
    const buffered: JobEvent[] = [];
    let wake: (() => void) | undefined;
    const stop = this.bus.listen<JobEvent>(`job:${build.job_id}`, (event) => {
      buffered.push(event);
      wake?.();
    });
    try {
      let last = afterSeq;
      for (const line of await this.queue.logsAfter(build.job_id, afterSeq)) {
        last = line.seq;
        yield line;
      }
      const job = await this.queue.get(build.job_id);
      if (job && TERMINAL.includes(job.status)) {
        for (const line of await this.queue.logsAfter(build.job_id, last)) yield line;
        yield { end: true, status: job.status, error: job.error };
        return;
      }
      while (!signal.aborted) {
        const event = buffered.shift();
        if (!event) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            signal.addEventListener('abort', () => resolve(), { once: true });
          });
          wake = undefined;
          continue;
        }
        if (event.type === 'log') {
          if (event.log.seq <= last) continue;
          last = event.log.seq;
          yield event.log;
        } else {
          yield { end: true, status: event.status, error: event.error };
          return;
        }
      }
    } finally {
      stop();
    }
  }

  /** Views of the caller's workspaces (or everyone's) as they change. */
  async *watch(
    actor: Actor,
    all: boolean,
    signal: AbortSignal,
  ): AsyncGenerator<WorkspaceView | { id: string; deleted: true }> {
    if (all && !canSeeAllWorkspaces(actor))
      throw new WarrenError('FORBIDDEN', "Only owners and auditors can watch everyone's workspaces.");
    for await (const event of this.bus.subscribe<{ workspaceId: string }>('workspaces', signal)) {
      const view = await this.byId(event.workspaceId);
      if (!view || (!all && view.ownerId !== actor.userId)) continue;
      yield view.status === 'deleted' ? { id: view.id, deleted: true } : view;
    }
  }

  #changed(workspaceId: string): void {
    this.queue.announce();
    this.bus.publish(`workspace:${workspaceId}`, { type: 'build' });
    this.bus.publish('workspaces', { workspaceId });
  }
}
