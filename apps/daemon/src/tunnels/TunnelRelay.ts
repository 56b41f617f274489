import { randomUUID } from 'node:crypto';
import { type AgentStreamFrame, encodeAgentFrame, WarrenError } from '@warren/core';
import type { WebSocket } from 'ws';
import { type AgentConnections, agentNotConnected } from '../agents/AgentConnections';
import { PendingReplies } from '../agents/PendingReplies';
import type { LiveSessions } from '../auth/LiveSessions';
import { splice } from './splice';

/** How long the daemon waits for an agent to dial back a stream it asked for. */
const DIAL_TIMEOUT_MS = 10_000;
/**
 * A workspace's activity is written at most this often for its tunnels: opening one counts, but
 * a burst of them (`ssh host true` in a loop, an editor's connections) writes the row once. The
 * relay's own minute-long activity tick is far coarser, so autostop sees no difference.
 */
export const ACTIVITY_COALESCE_MS = 10_000;
/** Close code a client sees when its access ended (workspace stopped, user suspended, token revoked). */
export const ACCESS_ENDED_CLOSE_CODE = 4403;

export type StreamRequest = Omit<AgentStreamFrame, 'type' | 'id'>;

/** A tunnel's hold on its user's and key's access: aborted when either ends. */
export type TunnelAccess = ReturnType<LiveSessions['track']>;

/** Who a tunnel belongs to: what ends it when access ends. */
export interface TunnelOwner {
  workspaceId: string;
  agentId: string;
  userId: string;
  apiKeyId: string;
}

interface Tunnel extends TunnelOwner {
  client: WebSocket;
  agent: WebSocket;
}

/**
 * The relay: a client's socket and a stream socket the agent dials back on request, spliced
 * byte for byte. Every tunnel is registered by workspace, agent, user and API key, so stopping a
 * workspace, losing its agent, suspending a user or revoking a key closes its tunnels at once.
 */
export class TunnelRelay {
  readonly #pending = new PendingReplies<WebSocket>();
  readonly #tunnels = new Set<Tunnel>();
  /** Per agent, one stream socket it dialled in advance; a tunnel takes it instead of waiting for a dial. */
  readonly #standby = new Map<string, WebSocket>();
  /** When each workspace's activity was last passed on (the clock's ms), for ACTIVITY_COALESCE_MS. */
  readonly #activityAt = new Map<string, number>();
  /** Bytes relayed since start, both directions (for stats and the benchmark). */
  relayedBytes = 0;

  constructor(
    private readonly connections: AgentConnections,
    private readonly live: LiveSessions,
    private readonly onActivity: (workspaceId: string) => void = () => {},
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Passes a workspace's activity on, unless it was passed on less than ACTIVITY_COALESCE_MS ago. */
  #activity(workspaceId: string): void {
    const now = this.now();
    const last = this.#activityAt.get(workspaceId);
    if (last !== undefined && now - last < ACTIVITY_COALESCE_MS) return;
    this.#activityAt.set(workspaceId, now);
    this.onActivity(workspaceId);
  }

  /** Asks the agent to dial a stream and resolves with its socket, or fails within the dial timeout. */
  requestStream(agentId: string, request: StreamRequest, timeoutMs = DIAL_TIMEOUT_MS): Promise<WebSocket> {
    const id = randomUUID();
    const standby = this.#takeStandby(agentId);
    if (standby) {
      standby.send(encodeAgentFrame({ type: 'stream', id, ...request } as AgentStreamFrame));
      // The agent answers at once (SSH sends its banner): hold its bytes until the splice reads them.
      standby.pause();
      return Promise.resolve(standby);
    }
    return this.#pending.wait(id, agentId, {
      timeoutMs,
      timedOut: () =>
        new WarrenError('UNAVAILABLE', 'The workspace agent did not open the connection in time.'),
      send: () => this.connections.send(agentId, { type: 'stream', id, ...request } as AgentStreamFrame),
      unreachable: agentNotConnected,
    });
  }

  /** Keeps an agent's advance stream socket (replacing an older one); it leaves when it closes. */
  addStandby(agentId: string, socket: WebSocket): void {
    const previous = this.#standby.get(agentId);
    this.#standby.set(agentId, socket);
    if (previous && previous !== socket) previous.close(1000, 'replaced by a newer standby');
    socket.once('close', () => {
      if (this.#standby.get(agentId) === socket) this.#standby.delete(agentId);
    });
    // A standby carries nothing until a tunnel takes it; anything the agent sends before is a violation.
    socket.once('message', () => {
      if (this.#standby.get(agentId) === socket) socket.close(1008, 'a standby stream speaks only when used');
    });
  }

  #takeStandby(agentId: string): WebSocket | undefined {
    const socket = this.#standby.get(agentId);
    this.#standby.delete(agentId);
    if (!socket || socket.readyState !== socket.OPEN) return undefined;
    socket.removeAllListeners('message');
    return socket;
  }

  /** The agent of this workspace whose control socket is connected to this daemon, if any. */
  connectedAgent(workspaceId: string): string | undefined {
    return this.connections.agentOf(workspaceId);
  }

  /** The metadata values and app health the workspace's agent last reported. */
  agentStatus(workspaceId: string) {
    return this.connections.statusOf(workspaceId);
  }

  /** Whether an agent's dialled stream is one this daemon asked that same agent for. */
  claims(streamId: string, agentId: string): boolean {
    return this.#pending.awaits(streamId, agentId);
  }

  /** The agent dialled back: hand its socket to the waiting client. False if nobody waits. */
  acceptStream(streamId: string, agentId: string, socket: WebSocket): boolean {
    if (!this.#pending.awaits(streamId, agentId)) return false;
    // The agent speaks first (SSH sends its banner at once): hold its bytes until the splice reads them.
    socket.pause();
    return this.#pending.resolve(streamId, agentId, socket);
  }

  /** Relays until either side closes or access ends. */
  /**
   * Registers who a tunnel will belong to, before anything is awaited for it: a suspension or
   * revocation while the agent dials is then seen too. Release it if the tunnel never opens.
   */
  track(owner: Pick<TunnelOwner, 'userId' | 'apiKeyId'>): TunnelAccess {
    return this.live.track(owner.userId, owner.apiKeyId);
  }

  async relay(client: WebSocket, agent: WebSocket, owner: TunnelOwner, access: TunnelAccess): Promise<void> {
    const tunnel: Tunnel = { ...owner, client, agent };
    this.#tunnels.add(tunnel);
    if (access.signal.aborted) this.#end(tunnel, 'access to the workspace ended');
    const onEnded = () => this.#end(tunnel, 'access to the workspace ended');
    access.signal.addEventListener('abort', onEnded, { once: true });
    this.#activity(owner.workspaceId);
    // Activity keeps a workspace from autostopping while its tunnels carry traffic.
    let active = false;
    const activity = setInterval(() => {
      if (active) this.#activity(owner.workspaceId);
      active = false;
    }, 60_000);
    try {
      await splice(client, agent, (bytes) => {
        this.relayedBytes += bytes;
        active = true;
      });
    } finally {
      clearInterval(activity);
      access.signal.removeEventListener('abort', onEnded);
      access.release();
      this.#tunnels.delete(tunnel);
    }
  }

  /** Closes every tunnel into a workspace (stopping or deleted); returns how many. */
  closeWorkspace(workspaceId: string, reason = 'the workspace is stopping'): number {
    this.#activityAt.delete(workspaceId);
    return this.#closeWhere((t) => t.workspaceId === workspaceId, reason);
  }

  /** The agent's control socket closed: its tunnels and the streams it was asked for end. */
  agentGone(agentId: string): void {
    this.#pending.rejectAgent(agentId, agentNotConnected);
    this.#standby.get(agentId)?.close(1001, "the agent's control socket closed");
    this.#standby.delete(agentId);
    this.#closeWhere((t) => t.agentId === agentId, "the workspace's agent disconnected");
  }

  hasTunnels(workspaceId: string): boolean {
    return this.countFor(workspaceId) > 0;
  }

  /** Open tunnels into a workspace (connection stats: they count as activity). */
  countFor(workspaceId: string): number {
    let count = 0;
    for (const tunnel of this.#tunnels) if (tunnel.workspaceId === workspaceId) count += 1;
    return count;
  }

  get size(): number {
    return this.#tunnels.size;
  }

  closeAll(): void {
    this.#closeWhere(() => true, 'the daemon is shutting down', 1001);
  }

  #closeWhere(match: (tunnel: Tunnel) => boolean, reason: string, code = ACCESS_ENDED_CLOSE_CODE): number {
    let closed = 0;
    for (const tunnel of [...this.#tunnels]) {
      if (!match(tunnel)) continue;
      this.#end(tunnel, reason, code);
      closed += 1;
    }
    return closed;
  }

  #end(tunnel: Tunnel, reason: string, code = ACCESS_ENDED_CLOSE_CODE): void {
    this.#tunnels.delete(tunnel);
    for (const socket of [tunnel.client, tunnel.agent]) {
      if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING)
        socket.close(code, reason);
    }
  }
}
