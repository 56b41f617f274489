import { randomUUID } from 'node:crypto';
import { type AgentStreamFrame, encodeAgentFrame, WarrenError } from '@warren/core';
import type { RawData, WebSocket } from 'ws';
import { type AgentConnections, agentNotConnected } from '../agents/AgentConnections';
import { PendingReplies } from '../agents/PendingReplies';
import type { LiveSessions } from '../auth/LiveSessions';
import { rawSocket, splice } from './splice';

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

/**
 * What a standby may send before a tunnel takes it: SSH's ident line and KEXINIT (about 1.5 KB
 * from the agent's ssh2). More, or a text frame, breaks the protocol and closes it.
 */
const MAX_STANDBY_FIRST_BYTES = 16 * 1024;

/** A stream the agent serves: its socket, and the bytes it sent while it waited as a standby. */
export interface AgentStream {
  socket: WebSocket;
  first: Buffer[];
}

interface Standby extends AgentStream {
  size: number;
  onMessage: (data: RawData, isBinary: boolean) => void;
}

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
  /** Per agent, one stream socket it dialled in advance; an SSH tunnel takes it instead of waiting for a dial. */
  readonly #standby = new Map<string, Standby>();
  /** When each workspace's activity was last passed on (performance.now()), for ACTIVITY_COALESCE_MS. */
  readonly #activityAt = new Map<string, number>();
  /** Bytes relayed since start, both directions (for stats and the benchmark). */
  relayedBytes = 0;

  constructor(
    private readonly connections: AgentConnections,
    private readonly live: LiveSessions,
    private readonly onActivity: (workspaceId: string) => void = () => {},
  ) {}

  /** Passes a workspace's activity on, unless it was passed on less than ACTIVITY_COALESCE_MS ago. */
  #activity(workspaceId: string): void {
    const now = performance.now();
    const last = this.#activityAt.get(workspaceId);
    if (last !== undefined && now - last < ACTIVITY_COALESCE_MS) return;
    this.#activityAt.set(workspaceId, now);
    this.onActivity(workspaceId);
  }

  /**
   * Resolves with the agent's socket for a new stream. An SSH stream takes the agent's standby if
   * one is open: SSH already runs there, its ident and KEXINIT already read (`first`), and the
   * `stream` frame gives it the client key before any client byte. Otherwise, and for every
   * other kind, the agent is asked to dial one, within the dial timeout.
   */
  requestStream(agentId: string, request: StreamRequest, timeoutMs = DIAL_TIMEOUT_MS): Promise<AgentStream> {
    const id = randomUUID();
    const standby = request.kind === 'ssh' ? this.#takeStandby(agentId) : undefined;
    if (standby) {
      standby.socket.send(encodeAgentFrame({ type: 'stream', id, ...request } as AgentStreamFrame));
      return Promise.resolve(standby);
    }
    return this.#pending
      .wait(id, agentId, {
        timeoutMs,
        timedOut: () =>
          new WarrenError('UNAVAILABLE', 'The workspace agent did not open the connection in time.'),
        send: () => this.connections.send(agentId, { type: 'stream', id, ...request } as AgentStreamFrame),
        unreachable: agentNotConnected,
      })
      .then((socket) => ({ socket, first: [] }));
  }

  /**
   * Keeps an agent's advance stream socket (replacing an older one); it leaves when it closes.
   * What its SSH sends first is kept for the client that takes it, up to MAX_STANDBY_FIRST_BYTES.
   */
  addStandby(agentId: string, socket: WebSocket): void {
    const standby: Standby = {
      socket,
      first: [],
      size: 0,
      onMessage: (data, isBinary) => {
        const bytes = toBuffer(data);
        standby.size += bytes.length;
        if (!isBinary || standby.size > MAX_STANDBY_FIRST_BYTES) {
          socket.off('message', standby.onMessage);
          if (this.#standby.get(agentId) === standby) this.#standby.delete(agentId);
          socket.close(1008, 'a standby stream sends only its first SSH bytes before it is used');
          return;
        }
        standby.first.push(bytes);
      },
    };
    socket.on('message', standby.onMessage);
    const previous = this.#standby.get(agentId);
    this.#standby.set(agentId, standby);
    if (previous) previous.socket.close(1000, 'replaced by a newer standby');
    socket.once('close', () => {
      if (this.#standby.get(agentId) === standby) this.#standby.delete(agentId);
    });
  }

  #takeStandby(agentId: string): Standby | undefined {
    const standby = this.#standby.get(agentId);
    this.#standby.delete(agentId);
    if (!standby || standby.socket.readyState !== standby.socket.OPEN) return undefined;
    standby.socket.off('message', standby.onMessage);
    // What comes next is the client's: hold it until the splice reads it.
    standby.socket.pause();
    return standby;
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

  /**
   * Registers who a tunnel will belong to, before anything is awaited for it: a suspension or
   * revocation while the agent dials is then seen too. Release it if the tunnel never opens.
   */
  track(owner: Pick<TunnelOwner, 'userId' | 'apiKeyId'>): TunnelAccess {
    return this.live.track(owner.userId, owner.apiKeyId);
  }

  /**
   * Sends the client `hello` (the `connected` frame) and, in the same write, what the agent's
   * stream sent first (SSH's ident and KEXINIT from a standby), then relays until either side
   * closes or access ends.
   */
  async relay(
    client: WebSocket,
    stream: AgentStream,
    owner: TunnelOwner,
    access: TunnelAccess,
    hello: string,
  ): Promise<void> {
    const agent = stream.socket;
    const raw = rawSocket(client);
    raw.cork();
    client.send(hello);
    for (const bytes of stream.first) {
      client.send(bytes, { binary: true });
      this.relayedBytes += bytes.length;
    }
    raw.uncork();
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
    this.#standby.get(agentId)?.socket.close(1001, "the agent's control socket closed");
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

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}
