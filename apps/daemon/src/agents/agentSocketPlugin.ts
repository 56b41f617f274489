import websocket from '@fastify/websocket';
import {
  type AgentManifestFrame,
  type AgentToDaemonFrame,
  decodeAgentFrame,
  durationMs,
  encodeAgentFrame,
  WarrenError,
} from '@warren/core';
import { rawDataBytes } from '@warren/core/node';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import type { TunnelRelay } from '../tunnels/TunnelRelay';
import type { WireguardService } from '../tunnels/wireguard/WireguardService';
import type { AgentConnections } from './AgentConnections';
import type { AgentRpc } from './AgentRpc';
import type { AgentService, AgentSession } from './AgentService';
import { bearerToken } from './agentToken';

export const AGENT_CONNECT_PATH = '/api/v2/agents/connect';
/**
 * Frames waiting to be handled before the daemon stops reading the agent's socket. Each frame
 * is handled after the previous one (a database write for logs), so a chatty script could
 * otherwise queue frames faster than they are stored, without bound; paused, TCP's window holds
 * the agent back and its own send buffer fills instead.
 */
const MAX_QUEUED_FRAMES = 64;

export interface AgentSocketOptions {
  agents: AgentService;
  connections: AgentConnections;
  /** Where the agent's answers to requests go. */
  rpc?: AgentRpc;
  /** Whose tunnels end when the agent's socket closes. */
  tunnels?: TunnelRelay;
  /** WireGuard mode: agents' registrations, map pushes and acknowledgements. */
  wireguard?: WireguardService;
  /** How often the daemon pings; a connection that misses a whole interval is dropped. */
  pingIntervalMs?: number;
}

const unauthorized = {
  error: {
    code: 'UNAUTHORIZED',
    message: 'The agent token is not valid: the workspace may have been stopped, rebuilt or deleted.',
  },
};

/**
 * The agent WebSocket. The bearer agent token is checked before the upgrade (401 otherwise);
 * every frame crosses the protocol decoder, and a bad one closes the socket with 1008.
 * Register `@fastify/websocket` once at the root before this plugin; it is registered here
 * only when missing, for a server that has no other WebSocket route.
 */
export async function agentSocketPlugin(app: FastifyInstance, options: AgentSocketOptions): Promise<void> {
  if (!app.hasDecorator('websocketServer')) await app.register(websocket);
  const sessions = new WeakMap<FastifyRequest, AgentSession>();

  app.route({
    method: 'GET',
    url: AGENT_CONNECT_PATH,
    preValidation: async (request: FastifyRequest, reply: FastifyReply) => {
      const token = bearerToken(request.headers.authorization);
      const session = token ? await options.agents.authenticate(token) : undefined;
      if (!session) return reply.code(401).send(unauthorized);
      sessions.set(request, session);
    },
    handler: (_request, reply) =>
      reply
        .code(426)
        .header('upgrade', 'websocket')
        .send({
          error: {
            code: 'INVALID_INPUT',
            message: `${AGENT_CONNECT_PATH} only accepts WebSocket connections.`,
          },
        }),
    wsHandler: (socket, request) => {
      const session = sessions.get(request);
      if (!session) return socket.close(1011, 'not authenticated');
      new AgentLink(socket, session, options, request.log, request.socket.remoteAddress).start();
    },
  });
}

/** One agent connection: frames are handled one at a time, in the order they arrived. */
class AgentLink {
  #greeted = false;
  /** Set after a protocol violation: later frames are ignored. A normal close still processes what arrived. */
  #rejected = false;
  #alive = true;
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #paused = false;
  readonly #agentId: string;
  readonly #log: FastifyRequest['log'];

  constructor(
    private readonly socket: WebSocket,
    private readonly session: AgentSession,
    private readonly options: AgentSocketOptions,
    log: FastifyRequest['log'],
    private readonly remoteAddress?: string,
  ) {
    this.#agentId = session.agent.id;
    this.#log = log.child({ agentId: this.#agentId, workspaceId: session.workspace.id });
  }

  start(): void {
    const { socket, options } = this;
    options.connections.add(this.#agentId, this.session.workspace.id, socket);
    this.#log.info('agent connected');
    const ping = setInterval(() => {
      if (!this.#alive) return socket.terminate();
      this.#alive = false;
      socket.ping();
    }, options.pingIntervalMs ?? 15_000);
    socket.on('pong', () => {
      this.#alive = true;
    });
    socket.on('message', (data, isBinary) => {
      this.#alive = true;
      this.#enqueue(data, isBinary);
    });
    socket.on('close', (code) => {
      clearInterval(ping);
      const current = options.connections.remove(this.#agentId, socket);
      if (current) {
        options.rpc?.agentGone(this.#agentId);
        options.tunnels?.agentGone(this.#agentId);
        options.wireguard?.detachAgent(this.#agentId);
      }
      this.#log.info({ code }, 'agent disconnected');
      // After the frames that arrived before the close, so `off` is recorded before the disconnect.
      this.#queue = this.#queue.then(async () => {
        if (current) await this.#safely(() => options.agents.markDisconnected(this.#agentId));
      });
      options.connections.settling(this.#queue);
    });
  }

  #enqueue(data: RawData, isBinary: boolean): void {
    this.#queued += 1;
    if (!this.#paused && this.#queued > MAX_QUEUED_FRAMES) {
      this.#paused = true;
      this.socket.pause();
    }
    this.#queue = this.#queue.then(async () => {
      await this.#receive(data, isBinary);
      this.#queued -= 1;
      // Resume at half, not at the limit, so a busy agent does not toggle the socket every frame.
      if (this.#paused && this.#queued <= MAX_QUEUED_FRAMES / 2) {
        this.#paused = false;
        this.socket.resume();
      }
    });
  }

  async #receive(data: RawData, isBinary: boolean): Promise<void> {
    if (this.#rejected) return;
    let frame: AgentToDaemonFrame;
    try {
      if (isBinary)
        throw new WarrenError('INVALID_INPUT', 'Agent frames are JSON text; a binary frame arrived.');
      frame = decodeAgentFrame(rawDataBytes(data), 'to-daemon');
      if (!this.#greeted && frame.type !== 'hello') {
        throw new WarrenError('INVALID_INPUT', `The first agent frame must be "hello", not "${frame.type}".`);
      }
    } catch (error) {
      const message = error instanceof WarrenError ? error.message : 'The agent frame could not be read.';
      this.#log.warn({ reason: message }, 'closing agent connection: bad frame');
      return this.#close(1008, message);
    }
    await this.#safely(() => this.#handle(frame));
  }

  async #handle(frame: AgentToDaemonFrame): Promise<void> {
    const { agents } = this.options;
    switch (frame.type) {
      case 'hello':
        this.#greeted = true;
        this.#log.info({ version: frame.version, os: frame.os, arch: frame.arch }, 'agent said hello');
        await agents.markConnected(this.#agentId, frame.version, frame.sshHostKey);
        if (this.socket.readyState === this.socket.OPEN)
          this.socket.send(
            encodeAgentFrame({
              ...manifestFrame(this.session),
              ...(this.options.wireguard?.enabled ? { wireguard: true } : {}),
            }),
          );
        return;
      case 'lifecycle':
        if (await agents.setLifecycle(this.#agentId, frame.state))
          this.#log.info({ lifecycle: frame.state }, 'agent lifecycle');
        return;
      case 'logs':
        await agents.appendLogs(this.#agentId, frame.source, frame.lines);
        return;
      case 'response':
        this.options.rpc?.answer(this.#agentId, frame);
        return;
      case 'status':
        this.options.connections.setStatus(this.#agentId, frame);
        return;
      case 'wireguard_register':
        try {
          const { workspace } = this.session;
          const agent = {
            agentId: this.#agentId,
            workspaceId: workspace.id,
            remoteAddress: this.remoteAddress,
          };
          this.options.wireguard?.attachAgent(agent, frame);
        } catch (error) {
          // A refused registration (a key another node holds) leaves the agent on the relay only.
          this.#log.warn({ reason: (error as Error).message }, 'WireGuard registration refused');
        }
        return;
      case 'wireguard_ack':
        this.options.wireguard?.acknowledgeAgent(this.#agentId, frame.version);
        return;
    }
  }

  /**
   * A failure to persist ends the connection (the agent reconnects and resends its state) rather
   * than the daemon. A refusal (a WarrenError, e.g. a host key that differs from the pinned one)
   * closes with 1008 and its sentence, which is also stored as an agent log line: the agent
   * gives up after a few such closes, and `warren logs` shows why.
   */
  async #safely(work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (!(error instanceof WarrenError) || error.code === 'INTERNAL') {
        this.#log.error({ err: error }, 'agent frame could not be handled');
        return this.#close(1011, 'The daemon could not handle the frame.');
      }
      this.#log.warn({ reason: error.message, code: error.code }, 'refusing the agent');
      await this.options.agents
        .appendLogs(this.#agentId, 'agent', [
          { time: Date.now(), line: `The daemon refused this agent: ${error.message}` },
        ])
        .catch((failure: unknown) => this.#log.error({ err: failure }, 'could not store the refusal'));
      this.#close(1008, error.message);
    }
  }

  #close(code: number, reason: string): void {
    if (this.#rejected) return;
    this.#rejected = true;
    this.socket.close(code, closeReason(reason));
    // The closing handshake needs the agent's close frame read.
    if (this.#paused) this.socket.resume();
  }
}

/** A WebSocket close reason is at most 123 bytes of UTF-8. */
function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason) > 123) reason = `${reason.slice(0, Math.min(reason.length - 2, 119))}…`;
  return reason;
}

export function manifestFrame(session: AgentSession): AgentManifestFrame {
  const { spec } = session;
  return {
    type: 'manifest',
    agentId: session.agent.id,
    startupScript: spec.startupScript,
    shutdownScript: spec.shutdownScript,
    scriptTimeoutMs: durationMs(spec.scriptTimeout),
    apps: spec.apps,
    metadata: spec.metadata,
  };
}
