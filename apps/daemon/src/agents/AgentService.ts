import {
  type AgentLifecycleState,
  type AgentLogLine,
  type AgentLogSource,
  type AgentSpec,
  agentSpecSchema,
  type Secret,
  WarrenError,
} from '@warren/core';
import type { Db } from '../db/database';
import { isUniqueViolation } from '../db/errors';
import type { EventBus } from '../events/EventBus';
import * as q from './agentQueries';
import { hashAgentToken, looksLikeAgentToken } from './agentToken';

export type { AgentLogEntry, AgentRow } from './agentQueries';

/** Who an agent token belongs to: the agent and its workspace. */
export interface AgentIdentity {
  agent: q.AgentRow;
  workspace: { id: string; name: string; ownerId: string };
}

/** What an authenticated agent token stands for, with what its control socket is told to run. */
export interface AgentSession extends AgentIdentity {
  /** The agent section of the manifest of the template version the agent's build uses. */
  spec: AgentSpec;
}

/** Published on `workspace:<workspaceId>` after an agent's state is persisted. */
export interface AgentStateEvent {
  type: 'agent';
  agentId: string;
  lifecycle: AgentLifecycleState;
  /** Present when the event is about the connection rather than the lifecycle. */
  connected?: boolean;
}

/** Published on `agent-logs:<agentId>` after the lines are persisted. */
export interface AgentLogsEvent {
  type: 'logs';
  agentId: string;
  logs: q.AgentLogEntry[];
}

export const workspaceTopic = (workspaceId: string) => `workspace:${workspaceId}`;
export const agentLogsTopic = (agentId: string) => `agent-logs:${agentId}`;

/** Agents' state and logs: persisted first, then published, so a subscriber that re-reads misses nothing. */
export class AgentService {
  constructor(
    private readonly db: Db,
    private readonly events: EventBus,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The agent a token belongs to, or undefined. A token stops working when its workspace is
   * deleted or its agent is off (stopped or rebuilt), so a leftover agent process gives up.
   */
  async identify(token: Secret): Promise<AgentIdentity | undefined> {
    const raw = token.reveal();
    if (!looksLikeAgentToken(raw)) return undefined;
    const row = await q.findAgentByTokenHash(this.db.kysely, hashAgentToken(raw));
    if (!row || row.deleted_at !== null || row.lifecycle === 'off') return undefined;
    const { workspace_name, owner_id, deleted_at: _deleted, ...agent } = row;
    return { agent, workspace: { id: agent.workspace_id, name: workspace_name, ownerId: owner_id } };
  }

  /**
   * identify(), plus the agent section of the template version its build uses: what the control
   * socket needs. Stream dials (one per tunnel) need only identify().
   */
  async authenticate(token: Secret): Promise<AgentSession | undefined> {
    const identity = await this.identify(token);
    if (!identity) return undefined;
    const manifest = await q.findBuildManifest(this.db.kysely, identity.agent.build_id);
    return manifest === undefined ? undefined : { ...identity, spec: parseAgentSpec(manifest) };
  }

  get(agentId: string): Promise<q.AgentRow | undefined> {
    return q.findAgent(this.db.kysely, agentId);
  }

  /** Persists and publishes a lifecycle change; returns false (and publishes nothing) if nothing changed. */
  async setLifecycle(agentId: string, lifecycle: AgentLifecycleState): Promise<boolean> {
    const agent = await this.#require(agentId);
    if (agent.lifecycle === lifecycle) return false;
    await q.updateLifecycle(this.db.kysely, agentId, lifecycle);
    this.events.publish(workspaceTopic(agent.workspace_id), {
      type: 'agent',
      agentId,
      lifecycle,
    } satisfies AgentStateEvent);
    // Workspace views carry the agent's state, so `workspaces.watch` (the desktop's tray) hears it too.
    this.events.publish('workspaces', { workspaceId: agent.workspace_id });
    return true;
  }

  /** Persists lines in order after the agent's earlier ones, then publishes them with their sequence numbers. */
  async appendLogs(
    agentId: string,
    source: AgentLogSource,
    lines: readonly AgentLogLine[],
  ): Promise<q.AgentLogEntry[]> {
    if (lines.length === 0) return [];
    let entries: q.AgentLogEntry[] | undefined;
    for (let attempt = 1; !entries; attempt++) {
      try {
        entries = await q.insertLogs(this.db.kysely, agentId, source, lines);
      } catch (error) {
        // Two writers raced for the same sequence numbers (a replaced connection): take the next ones.
        if (!isUniqueViolation(error) || attempt >= 5) throw error;
      }
    }
    this.events.publish(agentLogsTopic(agentId), {
      type: 'logs',
      agentId,
      logs: entries,
    } satisfies AgentLogsEvent);
    return entries;
  }

  listLogs(agentId: string, afterSeq = 0, limit = 1000): Promise<q.AgentLogEntry[]> {
    return q.selectLogs(this.db.kysely, agentId, afterSeq, Math.min(Math.max(limit, 1), 10_000));
  }

  /** The agent a workspace runs now (its latest start build's), if any. */
  async currentAgent(workspaceId: string): Promise<q.AgentRow | undefined> {
    return this.db.kysely
      .selectFrom('workspace_agents')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /**
   * The agent's log (startup and shutdown scripts): stored lines after `afterSeq`, then live ones,
   * each once and in order; the live subscription starts before the backlog is read.
   */
  async *follow(agentId: string, afterSeq: number, signal: AbortSignal): AsyncGenerator<q.AgentLogEntry> {
    const buffered: q.AgentLogEntry[] = [];
    let wake: (() => void) | undefined;
    const stop = this.events.listen<AgentLogsEvent>(agentLogsTopic(agentId), (event) => {
      buffered.push(...event.logs);
      wake?.();
    });
    const ended = new Promise<void>((resolve) =>
      signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    try {
      let last = afterSeq;
      for (
        let page = await this.listLogs(agentId, last);
        page.length > 0;
        page = await this.listLogs(agentId, last)
      ) {
        for (const entry of page) {
          last = entry.seq;
          yield entry;
        }
      }
      while (!signal.aborted) {
        const entry = buffered.shift();
        if (!entry) {
          await Promise.race([new Promise<void>((resolve) => (wake = resolve)), ended]);
          continue;
        }
        if (entry.seq <= last) continue;
        last = entry.seq;
        yield entry;
      }
    } finally {
      stop();
    }
  }

  /**
   * Records the connection and pins the agent's SSH host key the first time it reports one; a
   * different key later means the agent is not the one clients trust, so it is refused.
   */
  async markConnected(agentId: string, version: string, sshHostKey?: string): Promise<void> {
    const agent = await this.#require(agentId);
    if (sshHostKey && agent.ssh_host_key && agent.ssh_host_key !== sshHostKey)
      throw new WarrenError(
        'CONFLICT',
        "The agent's SSH host key differs from the one pinned when it first connected; rebuild the workspace to trust a new key.",
      );
    await q.updateConnected(this.db.kysely, agentId, version, sshHostKey ?? null, this.now());
    this.#publishConnection(agent, true);
  }

  async markDisconnected(agentId: string): Promise<void> {
    const agent = await this.#require(agentId);
    await q.updateDisconnected(this.db.kysely, agentId, this.now());
    this.#publishConnection(agent, false);
  }

  #publishConnection(agent: q.AgentRow, connected: boolean): void {
    const event: AgentStateEvent = {
      type: 'agent',
      agentId: agent.id,
      lifecycle: agent.lifecycle,
      connected,
    };
    this.events.publish(workspaceTopic(agent.workspace_id), event);
    this.events.publish('workspaces', { workspaceId: agent.workspace_id });
  }

  async #require(agentId: string): Promise<q.AgentRow> {
    const agent = await q.findAgent(this.db.kysely, agentId);
    if (!agent)
      throw new WarrenError(
        'NOT_FOUND',
        `No workspace agent has the id "${agentId}"; its build may have been retried.`,
      );
    return agent;
  }
}

/** Versions store the validated manifest; parsing again fills defaults a hand-inserted one may lack. */
function parseAgentSpec(manifestJson: string): AgentSpec {
  let agent: unknown;
  try {
    agent = (JSON.parse(manifestJson) as { agent?: unknown }).agent ?? {};
  } catch {
    agent = undefined;
  }
  const parsed = agentSpecSchema.safeParse(agent);
  if (!parsed.success) {
    throw new WarrenError('INTERNAL', "The agent section of this workspace's template version is not valid.");
  }
  return parsed.data;
}
