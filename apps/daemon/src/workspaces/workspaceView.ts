import type { ParameterValue, WorkspaceStatus } from '@warren/core';
import type { Kysely } from 'kysely';
import type { BuildTransition, Database, JobStatus } from '../db/schema';

/** The status people see, from the latest build's transition and its job's state. */
export function workspaceStatus(
  transition: BuildTransition,
  job: JobStatus,
  cancelRequested: boolean,
): WorkspaceStatus {
  if (job === 'failed') return 'failed';
  if (job === 'canceled') return 'canceled';
  if (cancelRequested && (job === 'pending' || job === 'running')) return 'canceling';
  const busy = job === 'pending' || job === 'running';
  if (transition === 'start') return job === 'pending' ? 'pending' : busy ? 'starting' : 'running';
  if (transition === 'stop') return busy ? 'stopping' : 'stopped';
  return busy ? 'deleting' : 'deleted';
}

export interface WorkspaceView {
  id: string;
  name: string;
  owner: string;
  ownerId: string;
  template: string;
  templateVersion: number;
  activeTemplateVersion: number | null;
  outdated: boolean;
  status: WorkspaceStatus;
  parameters: Record<string, ParameterValue>;
  latestBuild: {
    number: number;
    transition: BuildTransition;
    reason: string;
    jobStatus: JobStatus;
    error: string | null;
    createdAt: string;
    completedAt: string | null;
  };
  agent: { lifecycle: string; connected: boolean } | null;
  autostopMinutes: number | null;
  deadline: string | null;
  autostart: { cron: string; timezone: string; next: string | null } | null;
  lastActivityAt: string | null;
  createdAt: string;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export function workspaceViewQuery(db: Kysely<Database>) {
  return db
    .selectFrom('workspaces as w')
    .innerJoin('users as u', 'u.id', 'w.owner_id')
    .innerJoin('templates as t', 't.id', 'w.template_id')
    .innerJoin('template_versions as v', 'v.id', 'w.template_version_id')
    .leftJoin('template_versions as av', 'av.id', 't.active_version_id')
    .innerJoin('workspace_builds as b', 'b.id', 'w.latest_build_id')
    .innerJoin('provisioner_jobs as j', 'j.id', 'b.job_id')
    .leftJoin('workspace_agents as a', 'a.build_id', 'b.id')
    .select([
      'w.id',
      'w.name',
      'w.owner_id',
      'u.username as owner',
      't.name as template',
      'v.number as version',
      'av.number as activeVersion',
      'w.parameters',
      'w.ttl_ms',
      'w.deadline',
      'w.autostart_cron',
      'w.autostart_timezone',
      'w.next_autostart_at',
      'w.last_activity_at',
      'w.created_at',
      'b.number as buildNumber',
      'b.transition',
      'b.reason',
      'b.created_at as buildCreatedAt',
      'j.status as jobStatus',
      'j.error as jobError',
      'j.cancel_requested_at',
      'j.completed_at as jobCompletedAt',
      'a.lifecycle as agentLifecycle',
      'a.last_connected_at',
      'a.disconnected_at',
    ]);
}

type Row = Awaited<ReturnType<ReturnType<typeof workspaceViewQuery>['executeTakeFirstOrThrow']>>;

export function toWorkspaceView(r: Row): WorkspaceView {
  return {
    id: r.id,
    name: r.name,
    owner: r.owner,
    ownerId: r.owner_id,
    template: r.template,
    templateVersion: r.version,
    activeTemplateVersion: r.activeVersion ?? null,
    outdated: r.activeVersion !== null && r.activeVersion !== r.version,
    status: workspaceStatus(r.transition, r.jobStatus, r.cancel_requested_at !== null),
    parameters: JSON.parse(r.parameters),
    latestBuild: {
      number: r.buildNumber,
      transition: r.transition,
      reason: r.reason,
      jobStatus: r.jobStatus,
      error: r.jobError,
      createdAt: new Date(r.buildCreatedAt).toISOString(),
      completedAt: iso(r.jobCompletedAt),
    },
    agent: r.agentLifecycle
      ? {
          lifecycle: r.agentLifecycle,
          connected:
            r.last_connected_at !== null &&
            (r.disconnected_at === null || r.disconnected_at < r.last_connected_at),
        }
      : null,
    autostopMinutes: r.ttl_ms === null ? null : Math.round(r.ttl_ms / 60_000),
    deadline: iso(r.deadline),
    autostart:
      r.autostart_cron && r.autostart_timezone
        ? { cron: r.autostart_cron, timezone: r.autostart_timezone, next: iso(r.next_autostart_at) }
        : null,
    lastActivityAt: iso(r.last_activity_at),
    createdAt: new Date(r.created_at).toISOString(),
  };
}
