import { type AgentStatusFrame, type DaemonToAgentFrame, encodeAgentFrame, WarrenError } from '@warren/core';
import type { WebSocket } from 'ws';

/** What a call to, or tunnel into, a workspace whose agent has no live socket here fails with. */
export function agentNotConnected(): WarrenError {
  return new WarrenError(
    'UNAVAILABLE',
    "The workspace's agent is not connected; start the workspace and wait until it is ready.",
  );
}

/** Close code for a connection that a newer one from the same agent replaced. */
export const REPLACED_CLOSE_CODE = 4000;

interface Connection {
  workspaceId: string;
  socket: WebSocket;
  /** The agent's latest metadata values and app health (kept while it is connected). */
  status?: Omit<AgentStatusFrame, 'type'>;
}

/**
 * The live agent sockets of this daemon, at most one per agent: an agent that reconnects
 * before the daemon noticed its old link died replaces it.
 */
export class AgentConnections {
  readonly #byAgent = new Map<string, Connection>();
  readonly #settling = new Set<Promise<void>>();

  /** Registers the agent's socket, closing the one it replaces. */
  add(agentId: string, workspaceId: string, socket: WebSocket): void {
    const previous = this.#byAgent.get(agentId);
    this.#byAgent.set(agentId, { workspaceId, socket });
    if (previous && previous.socket !== socket)
      previous.socket.close(REPLACED_CLOSE_CODE, 'replaced by a newer connection');
  }

  /** Forgets the socket if it is still the agent's current one; returns whether it was. */
  remove(agentId: string, socket: WebSocket): boolean {
    if (this.#byAgent.get(agentId)?.socket !== socket) return false;
    this.#byAgent.delete(agentId);
    return true;
  }

  isConnected(agentId: string): boolean {
    return this.#byAgent.has(agentId);
  }

  /** The agent of this workspace connected here, if any (a workspace runs one agent at a time). */
  agentOf(workspaceId: string): string | undefined {
    for (const [agentId, connection] of this.#byAgent)
      if (connection.workspaceId === workspaceId && connection.socket.readyState === connection.socket.OPEN)
        return agentId;
    return undefined;
  }

  setStatus(agentId: string, status: AgentStatusFrame): void {
    const connection = this.#byAgent.get(agentId);
    if (connection) connection.status = { metadata: status.metadata, apps: status.apps };
  }

  /** What the workspace's connected agent last reported, if anything. */
  statusOf(workspaceId: string): Omit<AgentStatusFrame, 'type'> | undefined {
    const agentId = this.agentOf(workspaceId);
    return agentId ? this.#byAgent.get(agentId)?.status : undefined;
  }

  /** Sends a frame to the agent if it is connected here; false if it is not. */
  send(agentId: string, frame: DaemonToAgentFrame): boolean {
    const connection = this.#byAgent.get(agentId);
    if (!connection || connection.socket.readyState !== connection.socket.OPEN) return false;
    connection.socket.send(encodeAgentFrame(frame));
    return true;
  }

  /**
   * Closes the connections of a workspace's agents (stopped or deleted); returns how many. Each
   * leaves the registry when its socket has closed, which records the disconnect.
   */
  close(workspaceId: string, code = 1000, reason = 'workspace stopped'): number {
    let closed = 0;
    for (const connection of this.#byAgent.values()) {
      if (connection.workspaceId !== workspaceId) continue;
      connection.socket.close(code, reason);
      closed += 1;
    }
    return closed;
  }

  closeAll(code = 1001, reason = 'daemon shutting down'): void {
    for (const { socket } of this.#byAgent.values()) socket.close(code, reason);
  }

  /** Work a closed connection still does (recording the disconnect); shutdown waits for it. */
  settling(work: Promise<void>): void {
    this.#settling.add(work);
    void work.finally(() => this.#settling.delete(work));
  }

  /** Resolves when every closed connection has finished its work, so the database can close. */
  async settled(): Promise<void> {
    while (this.#settling.size > 0) await Promise.allSettled([...this.#settling]);
  }
}
