import { randomUUID } from 'node:crypto';
import { interpolate, type ParameterValue, type TemplateManifest, WarrenError } from '@warren/core';
import type { Kysely } from 'kysely';
import { createAgent } from '../agents/agentQueries';
import { mintAgentToken } from '../agents/agentToken';
import type { Db } from '../db/database';
import type { BuildTransition, Database } from '../db/schema';
import type { EventBus } from '../events/EventBus';
import type { ProvisionerState, ProvisionRequest } from '../provisioners/Provisioner';
import type { Job, JobQueue } from './JobQueue';

export const BUILD_JOB = 'workspace_build';

/** What a workspace build job carries: the build, and what to do after it succeeds. */
export interface BuildJobInput {
  buildId: string;
  /** Restart: a stop build that starts the workspace again when it succeeds. */
  startAfter?: boolean;
  /** Delete: forget resources that cannot be removed. */
  orphan?: boolean;
}

export interface PreparedBuild {
  jobId: string;
  attempt: number;
  provisionerType: 'local' | 'docker';
  request: ProvisionRequest<unknown>;
}

export type BuildOutcome =
  | { status: 'succeeded'; state: ProvisionerState }
  | { status: 'failed' | 'canceled'; error: string };

/** Where agents fetch themselves and whom they dial; set from the access URL. */
export interface AgentEndpoint {
  daemonUrl: string;
}

/**
 * Turns queued build jobs into provisioner requests and records their outcome. Shared by the
 * daemon's own runner and by external provisioners, which reach it through the API.
 */
export class BuildService {
  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
    private readonly bus: EventBus,
    private readonly endpoint: AgentEndpoint,
    private readonly now: () => number = Date.now,
  ) {}

  /** Creates a build and its job inside the caller's transaction. */
  async createBuild(
    trx: Kysely<Database>,
    b: {
      workspaceId: string;
      transition: BuildTransition;
      reason: 'initiator' | 'autostop' | 'autostart';
      initiatorId: string | null;
      templateVersionId: string;
      parameters: Record<string, ParameterValue>;
      tags: Record<string, string>;
      startAfter?: boolean;
      orphan?: boolean;
    },
  ): Promise<{ buildId: string; number: number; jobId: string }> {
    const last = await trx
      .selectFrom('workspace_builds')
      .select((eb) => eb.fn.max<number>('number').as('n'))
      .where('workspace_id', '=', b.workspaceId)
      .executeTakeFirst();
    const number = Number(last?.n ?? 0) + 1;
    const buildId = randomUUID();
    const input: BuildJobInput = {
      buildId,
      ...(b.startAfter ? { startAfter: true } : {}),
      ...(b.orphan ? { orphan: true } : {}),
    };
    const jobId = await this.queue.enqueue(trx, BUILD_JOB, input, b.tags);
    // (workspace_id, number) is unique: of two concurrent transitions, one fails here.
    await trx
      .insertInto('workspace_builds')
      .values({
        id: buildId,
        workspace_id: b.workspaceId,
        number,
        transition: b.transition,
        reason: b.reason,
        initiator_id: b.initiatorId,
        template_version_id: b.templateVersionId,
        parameters: JSON.stringify(b.parameters),
        job_id: jobId,
        provisioner_state: null,
        created_at: this.now(),
      })
      .execute();
    await trx
      .updateTable('workspaces')
      .set({
        latest_build_id: buildId,
        template_version_id: b.templateVersionId,
        parameters: JSON.stringify(b.parameters),
        updated_at: this.now(),
      })
      .where('id', '=', b.workspaceId)
      .execute();
    return { buildId, number, jobId };
  }

  async prepare(job: Job): Promise<PreparedBuild> {
    const input = JSON.parse(job.input) as BuildJobInput;
    const row = await this.db.kysely
      .selectFrom('workspace_builds as b')
      .innerJoin('workspaces as w', 'w.id', 'b.workspace_id')
      .innerJoin('users as u', 'u.id', 'w.owner_id')
      .innerJoin('template_versions as v', 'v.id', 'b.template_version_id')
      .select([
        'b.id as buildId',
        'b.number',
        'b.transition',
        'b.parameters',
        'w.id as workspaceId',
        'w.name as workspaceName',
        'u.id as ownerId',
        'u.username as ownerUsername',
        'v.manifest',
      ])
      .where('b.id', '=', input.buildId)
      .executeTakeFirst();
    if (!row) throw new WarrenError('NOT_FOUND', `The build of job ${job.id} no longer exists.`);
    const manifest = JSON.parse(row.manifest) as TemplateManifest;
    const parameters = JSON.parse(row.parameters) as Record<string, ParameterValue>;
    const spec = manifest.provisioner;
    const resources = interpolate(spec.type === 'docker' ? spec.docker : spec.local, parameters);

    const previous = await this.db.kysely
      .selectFrom('workspace_builds')
      .select('provisioner_state')
      .where('workspace_id', '=', row.workspaceId)
      .where('number', '<', row.number)
      .where('provisioner_state', 'is not', null)
      .orderBy('number', 'desc')
      .limit(1)
      .executeTakeFirst();

    // Each start attempt gets a fresh agent token; only its hash is stored.
    const { token, tokenHash } = mintAgentToken();
    if (row.transition === 'start') {
      await this.db.kysely.transaction().execute(async (trx) => {
        await trx.deleteFrom('workspace_agents').where('build_id', '=', row.buildId).execute();
        await createAgent(trx, {
          workspaceId: row.workspaceId,
          buildId: row.buildId,
          tokenHash,
          now: this.now(),
        });
      });
    }
    return {
      jobId: job.id,
      attempt: job.attempts,
      provisionerType: spec.type,
      request: {
        workspace: {
          id: row.workspaceId,
          name: row.workspaceName,
          ownerId: row.ownerId,
          ownerUsername: row.ownerUsername,
        },
        buildId: row.buildId,
        transition: row.transition,
        resources,
        agent: {
          token,
          daemonUrl: this.endpoint.daemonUrl,
          binaryUrl: `${this.endpoint.daemonUrl}/bin/warren-agent.mjs`,
        },
        previousState: previous?.provisioner_state ? JSON.parse(previous.provisioner_state) : null,
        orphan: input.orphan === true,
      },
    };
  }

  /** Records a build's outcome with its job, atomically; a restart's stop enqueues the start. */
  async complete(jobId: string, workerId: string, outcome: BuildOutcome): Promise<boolean> {
    const job = await this.queue.get(jobId);
    if (!job) return false;
    const input = JSON.parse(job.input) as BuildJobInput;
    let workspaceId: string | undefined;
    const done = await this.queue.finish(
      jobId,
      workerId,
      { status: outcome.status, error: outcome.status === 'succeeded' ? undefined : outcome.error },
      async (trx) => {
        const build = await trx
          .selectFrom('workspace_builds')
          .selectAll()
          .where('id', '=', input.buildId)
          .executeTakeFirstOrThrow();
        workspaceId = build.workspace_id;
        await this.applyOutcome(trx, build, outcome);
        if (outcome.status === 'succeeded' && input.startAfter === true) {
          const ws = await trx
            .selectFrom('workspaces')
            .selectAll()
            .where('id', '=', build.workspace_id)
            .executeTakeFirstOrThrow();
          const tags = JSON.parse(job.tags) as Record<string, string>;
          await this.createBuild(trx, {
            workspaceId: ws.id,
            transition: 'start',
            reason: build.reason,
            initiatorId: build.initiator_id,
            templateVersionId: build.template_version_id,
            parameters: JSON.parse(build.parameters),
            tags,
          });
        }
      },
    );
    if (done && workspaceId) {
      this.bus.publish(`workspace:${workspaceId}`, { type: 'build' });
      this.bus.publish('workspaces', { workspaceId });
      if (input.startAfter === true) this.queue.announce();
    }
    return done;
  }

  /** What a finished build means for its workspace; also used when a lapsed job is failed. */
  async applyOutcome(
    trx: Kysely<Database>,
    build: { id: string; workspace_id: string; transition: BuildTransition },
    outcome: BuildOutcome,
  ): Promise<void> {
    const now = this.now();
    if (outcome.status === 'succeeded') {
      await trx
        .updateTable('workspace_builds')
        .set({ provisioner_state: JSON.stringify(outcome.state) })
        .where('id', '=', build.id)
        .execute();
    }
    if (outcome.status === 'succeeded' && build.transition === 'delete') {
      await trx
        .updateTable('workspaces')
        .set({ deleted_at: now, updated_at: now })
        .where('id', '=', build.workspace_id)
        .execute();
    }
    if (build.transition !== 'start' || outcome.status !== 'succeeded') {
      // Nothing runs an agent now: a stopped, deleted or failed workspace has none.
      await trx
        .updateTable('workspace_agents')
        .set({ lifecycle: 'off', disconnected_at: now })
        .where('workspace_id', '=', build.workspace_id)
        .where('lifecycle', '!=', 'off')
        .execute();
    }
    if (build.transition === 'start' && outcome.status === 'succeeded') {
      const ws = await trx
        .selectFrom('workspaces')
        .select(['ttl_ms'])
        .where('id', '=', build.workspace_id)
        .executeTakeFirst();
      await trx
        .updateTable('workspaces')
        .set({ deadline: ws?.ttl_ms ? now + ws.ttl_ms : null, last_activity_at: now })
        .where('id', '=', build.workspace_id)
        .execute();
    } else {
      await trx
        .updateTable('workspaces')
        .set({ deadline: null })
        .where('id', '=', build.workspace_id)
        .execute();
    }
  }

  /** Fails the builds of jobs whose runner vanished for good, so workspaces stop claiming to build. */
  async failLapsed(job: Job, trx: Kysely<Database>): Promise<void> {
    const input = JSON.parse(job.input) as BuildJobInput;
    const build = await trx
      .selectFrom('workspace_builds')
      .selectAll()
      .where('id', '=', input.buildId)
      .executeTakeFirst();
    if (build) {
      await this.applyOutcome(trx, build, { status: 'failed', error: job.error ?? 'lapsed' });
      this.bus.publish(`workspace:${build.workspace_id}`, { type: 'build' });
      this.bus.publish('workspaces', { workspaceId: build.workspace_id });
    }
  }
}
