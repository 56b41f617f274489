import { randomUUID } from 'node:crypto';
import type { AgentLogLine, AgentLogSource } from '@warren/core';
import type { Kysely, Selectable } from 'kysely';
import type { AgentLifecycle, Database, WorkspaceAgentsTable } from '../db/schema';

type Db = Kysely<Database>;
export type AgentRow = Selectable<WorkspaceAgentsTable>;

export interface AgentLogEntry {
  seq: number;
  time: number;
  source: string;
  line: string;
}

/**
 * Registers the agent of a start build, in lifecycle `created`. Takes a Kysely instance or a
 * transaction, so a build can create its agent atomically with the rest of its rows.
 */
export async function createAgent(
  db: Db,
  input: { workspaceId: string; buildId: string; tokenHash: string; now: number },
): Promise<AgentRow> {
  const row: AgentRow = {
    id: randomUUID(),
    workspace_id: input.workspaceId,
    build_id: input.buildId,
    token_hash: input.tokenHash,
    lifecycle: 'created',
    version: null,
    first_connected_at: null,
    last_connected_at: null,
    disconnected_at: null,
    created_at: input.now,
    ssh_host_key: null,
  };
  await db.insertInto('workspace_agents').values(row).execute();
  return row;
}

/** The agent with this token hash and its workspace. */
export function findAgentByTokenHash(db: Db, tokenHash: string) {
  return db
    .selectFrom('workspace_agents as a')
    .innerJoin('workspaces as w', 'w.id', 'a.workspace_id')
    .selectAll('a')
    .select(['w.name as workspace_name', 'w.owner_id', 'w.deleted_at'])
    .where('a.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

/** The manifest of the template version a build uses. */
export async function findBuildManifest(db: Db, buildId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('workspace_builds as b')
    .innerJoin('template_versions as v', 'v.id', 'b.template_version_id')
    .select('v.manifest')
    .where('b.id', '=', buildId)
    .executeTakeFirst();
  return row?.manifest;
}

export function findAgent(db: Db, agentId: string): Promise<AgentRow | undefined> {
  return db.selectFrom('workspace_agents').selectAll().where('id', '=', agentId).executeTakeFirst();
}

export async function updateLifecycle(db: Db, agentId: string, lifecycle: AgentLifecycle): Promise<void> {
  await db.updateTable('workspace_agents').set({ lifecycle }).where('id', '=', agentId).execute();
}

export async function updateConnected(
  db: Db,
  agentId: string,
  version: string,
  sshHostKey: string | null,
  now: number,
): Promise<void> {
  await db
    .updateTable('workspace_agents')
    .set((eb) => ({
      version,
      first_connected_at: eb.fn.coalesce('first_connected_at', eb.val(now)),
      last_connected_at: now,
      disconnected_at: null,
      // Pinned on first report: a later hello cannot replace it.
      ssh_host_key: eb.fn.coalesce('ssh_host_key', eb.val(sshHostKey)),
    }))
    .where('id', '=', agentId)
    .execute();
}

export async function updateDisconnected(db: Db, agentId: string, now: number): Promise<void> {
  await db.updateTable('workspace_agents').set({ disconnected_at: now }).where('id', '=', agentId).execute();
}

/** Appends lines after the agent's last sequence number; the primary key catches a concurrent writer. */
export async function insertLogs(
  db: Db,
  agentId: string,
  source: AgentLogSource,
  lines: readonly AgentLogLine[],
): Promise<AgentLogEntry[]> {
  return db.transaction().execute(async (trx) => {
    const last = await trx
      .selectFrom('agent_logs')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .where('agent_id', '=', agentId)
      .executeTakeFirst();
    const start = Number(last?.seq ?? 0) + 1;
    const entries = lines.map((l, i) => ({ seq: start + i, time: l.time, source, line: storable(l.line) }));
    for (let i = 0; i < entries.length; i += 500) {
      const chunk = entries.slice(i, i + 500).map((e) => ({ agent_id: agentId, ...e }));
      await trx.insertInto('agent_logs').values(chunk).execute();
    }
    return entries;
  });
}

export function selectLogs(
  db: Db,
  agentId: string,
  afterSeq: number,
  limit: number,
): Promise<AgentLogEntry[]> {
  return db
    .selectFrom('agent_logs')
    .select(['seq', 'time', 'source', 'line'])
    .where('agent_id', '=', agentId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

/** PostgreSQL text cannot hold NUL; a script can print one. */
function storable(line: string): string {
  return line.includes('\u0000') ? line.replaceAll('\u0000', '\uFFFD') : line;
}
