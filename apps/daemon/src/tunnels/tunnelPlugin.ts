import websocket from '@fastify/websocket';
import {
  agentStreamTerminalSchema,
  CLIENT_KEY_HEADER,
  STANDBY_STREAM_ID,
  splitWorkspaceRef,
  sshPublicKeySchema,
  TUNNEL_SSH_PATH,
  TUNNEL_TERMINAL_PATH,
  WarrenError,
  workspaceRefInput,
} from '@warren/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { AgentService } from '../agents/AgentService';
import { bearerToken } from '../agents/agentToken';
import { authenticateRequest } from '../api/context';
import type { AuthService } from '../auth/AuthService';
import type { Actor } from '../auth/policy';
import type { EventBus } from '../events/EventBus';
import type { WorkspacesService } from '../workspaces/WorkspacesService';
import type { AgentStream, StreamRequest, TunnelAccess, TunnelOwner, TunnelRelay } from './TunnelRelay';

export const AGENT_STREAM_PATH = '/api/v2/agents/streams/:id';

export interface TunnelPluginOptions {
  relay: TunnelRelay;
  agents: AgentService;
  auth: AuthService;
  workspaces: WorkspacesService;
  events: EventBus;
}

const workspaceParam = z
  .string()
  .min(1)
  .max(100)
  .transform((raw, ctx) => {
    const parsed = workspaceRefInput.safeParse(splitWorkspaceRef(raw));
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: 'must be NAME or OWNER/NAME' });
      return z.NEVER;
    }
    return parsed.data;
  });

const sshQuery = z.object({ workspace: workspaceParam }).strict();
/** The agent's own limits (agentStreamTerminalSchema), so a terminal the daemon accepts the agent opens. */
const streamTerminal = agentStreamTerminalSchema.shape;
const terminalQuery = z
  .object({
    workspace: workspaceParam,
    session: streamTerminal.session,
    cols: z.coerce.number().pipe(streamTerminal.cols).default(80),
    rows: z.coerce.number().pipe(streamTerminal.rows).default(24),
    command: streamTerminal.command,
  })
  .strict();

/** What a client's upgrade resolved to, kept between preValidation and the WebSocket handler. */
interface OpenedTunnel {
  owner: TunnelOwner;
  agent: AgentStream;
  access: TunnelAccess;
  hello: Record<string, unknown>;
}

/**
 * Tunnel routes. A client's upgrade is refused with a JSON error until everything is settled:
 * who it is, that it may connect to this workspace, that the agent is connected and has dialled
 * the stream back. Only then does the socket open, with one text frame (`connected`, carrying the
 * pinned host key for SSH) before the spliced bytes.
 */
export async function tunnelPlugin(app: FastifyInstance, options: TunnelPluginOptions): Promise<void> {
  if (!app.hasDecorator('websocketServer')) await app.register(websocket);
  const { relay, agents, workspaces } = options;
  const opened = new WeakMap<FastifyRequest, OpenedTunnel>();
  const dialled = new WeakMap<FastifyRequest, { streamId: string; agentId: string }>();

  const openTunnel = async (
    request: FastifyRequest,
    workspaceRef: { owner?: string; name: string },
    stream: (agent: { id: string; hostKey: string | null }) => StreamRequest,
  ) => {
    const { auth } = await authenticateRequest(options, request);
    if (!auth) throw new WarrenError('UNAUTHORIZED', 'Sign in first: tunnels need an API token.');
    if ('error' in auth) throw auth.error;
    const actor: Actor = auth.actor;
    const workspace = await workspaces.get(actor, workspaceRef, 'write');
    if (workspace.status !== 'running')
      throw new WarrenError(
        'CONFLICT',
        `The workspace "${workspace.name}" is ${workspace.status}; start it first (warren start ${workspace.name}).`,
      );
    const agentRow = await agents.currentAgent(workspace.id);
    const agentId = agentRow && relay.connectedAgent(workspace.id);
    if (!agentRow || agentId !== agentRow.id)
      throw new WarrenError(
        'UNAVAILABLE',
        `The agent of "${workspace.name}" is not connected yet; wait until the workspace is ready.`,
      );
    const streamRequest = stream({ id: agentRow.id, hostKey: agentRow.ssh_host_key });
    const access = relay.track(actor);
    let agent: AgentStream;
    try {
      agent = await relay.requestStream(agentRow.id, streamRequest);
    } catch (error) {
      access.release();
      throw error;
    }
    // A client that left while the agent dialled never reaches the handler: drop the stream.
    const dropStream = () => {
      if (!opened.delete(request)) return;
      agent.socket.close(1001, 'the client left');
      access.release();
    };
    if (request.raw.socket.destroyed) {
      agent.socket.close(1001, 'the client left');
      access.release();
      throw new WarrenError('UNAVAILABLE', 'The client left before the tunnel opened.');
    }
    request.raw.socket.once('close', dropStream);
    opened.set(request, {
      owner: {
        workspaceId: workspace.id,
        agentId: agentRow.id,
        userId: actor.userId,
        apiKeyId: actor.apiKeyId,
      },
      agent,
      access,
      hello: {
        type: 'connected',
        workspace: { id: workspace.id, owner: workspace.owner, name: workspace.name },
        ...(agentRow.ssh_host_key ? { hostKey: agentRow.ssh_host_key } : {}),
      },
    });
  };

  const clientHandler = (socket: WebSocket, request: FastifyRequest) => {
    const tunnel = opened.get(request);
    if (!tunnel) return socket.close(1011, 'not authorised');
    opened.delete(request);
    void relay.relay(socket, tunnel.agent, tunnel.owner, tunnel.access, JSON.stringify(tunnel.hello));
  };

  const refuse = (reply: FastifyReply, error: unknown) => {
    const warren =
      error instanceof WarrenError ? error : new WarrenError('INTERNAL', 'The tunnel could not be opened.');
    if (!(error instanceof WarrenError)) reply.log.error({ err: error }, 'tunnel could not be opened');
    return reply.code(warren.httpStatus).send({ error: { code: warren.code, message: warren.message } });
  };

  /** A client tunnel route: `open` reads the request and says which stream to ask the agent for. */
  const tunnelRoute = (
    url: string,
    open: (request: FastifyRequest) => {
      workspace: { owner?: string; name: string };
      stream: (agent: { id: string; hostKey: string | null }) => StreamRequest;
    },
  ) =>
    app.route({
      method: 'GET',
      url,
      preValidation: async (request, reply) => {
        try {
          const { workspace, stream } = open(request);
          await openTunnel(request, workspace, stream);
        } catch (error) {
          return refuse(reply, error);
        }
      },
      handler: upgradeRequired,
      wsHandler: clientHandler,
    });

  tunnelRoute(TUNNEL_SSH_PATH, (request) => {
    const query = parse(sshQuery, request.query, 'query');
    const clientKey = parse(
      sshPublicKeySchema,
      request.headers[CLIENT_KEY_HEADER],
      `the ${CLIENT_KEY_HEADER} header`,
    );
    return {
      workspace: query.workspace,
      stream: (agent) => {
        if (!agent.hostKey)
          throw new WarrenError(
            'UNAVAILABLE',
            "The workspace's agent has not reported an SSH host key; its agent may be too old: restart the workspace.",
          );
        return { kind: 'ssh', clientKey };
      },
    };
  });

  tunnelRoute(TUNNEL_TERMINAL_PATH, (request) => {
    const query = parse(terminalQuery, request.query, 'query');
    return {
      workspace: query.workspace,
      stream: () => ({
        kind: 'terminal',
        terminal: { session: query.session, cols: query.cols, rows: query.rows, command: query.command },
      }),
    };
  });

  app.route({
    method: 'GET',
    url: AGENT_STREAM_PATH,
    // The agent's own dial, one per tunnel: the client's upgrade is the line worth logging.
    logLevel: 'warn',
    preValidation: async (request, reply) => {
      const token = bearerToken(request.headers.authorization);
      const session = token ? await agents.identify(token) : undefined;
      const { id } = request.params as { id: string };
      const standby =
        id === STANDBY_STREAM_ID &&
        session !== undefined &&
        relay.connectedAgent(session.workspace.id) === session.agent.id;
      if (!session || !(standby || relay.claims(id, session.agent.id)))
        return reply
          .code(404)
          .send({ error: { code: 'NOT_FOUND', message: 'No stream is waiting with this id.' } });
      dialled.set(request, { streamId: id, agentId: session.agent.id });
    },
    handler: upgradeRequired,
    wsHandler: (socket, request) => {
      const stream = dialled.get(request);
      if (stream?.streamId === STANDBY_STREAM_ID) return relay.addStandby(stream.agentId, socket);
      if (!stream || !relay.acceptStream(stream.streamId, stream.agentId, socket))
        socket.close(1008, 'no such stream');
    },
  });

  // Stopping or deleting a workspace ends its tunnels at once, before its agent is gone.
  const watching = new AbortController();
  app.addHook('onClose', async () => watching.abort());
  void (async () => {
    for await (const event of options.events.subscribe<{ workspaceId: string }>(
      'workspaces',
      watching.signal,
    )) {
      if (!relay.hasTunnels(event.workspaceId)) continue;
      const view = await workspaces.byId(event.workspaceId).catch(() => undefined);
      if (view?.status !== 'running') relay.closeWorkspace(event.workspaceId);
    }
  })();
}

function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : what;
  throw new WarrenError('INVALID_INPUT', `${where} ${issue?.message ?? 'is not valid'}.`);
}

function upgradeRequired(request: FastifyRequest, reply: FastifyReply) {
  return reply
    .code(426)
    .header('upgrade', 'websocket')
    .send({
      error: {
        code: 'INVALID_INPUT',
        message: `${request.url.split('?')[0]} only accepts WebSocket connections.`,
      },
    });
}
