import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import websocket from '@fastify/websocket';
import { MAX_AGENT_FRAME_BYTES, WarrenError } from '@warren/core';
import { tickCorker } from '@warren/core/node';
import Fastify, { type FastifyInstance } from 'fastify';
import { AgentConnections } from './agents/AgentConnections';
import { AgentRpc } from './agents/AgentRpc';
import { AgentService } from './agents/AgentService';
import { agentBinaryPlugin, resolveAgentBinaryPath } from './agents/agentBinaryPlugin';
import { agentSocketPlugin } from './agents/agentSocketPlugin';
import { AiCatalogService } from './ai/AiCatalogService';
import { AiPolicyService } from './ai/AiPolicyService';
import { UsageService } from './ai/UsageService';
import { usageCsvPlugin } from './ai/usageCsvPlugin';
import { apiPlugin } from './api/apiPlugin';
import type { Services } from './api/context';
import { INTERNAL_MESSAGE } from './api/trpc';
import { AuditService } from './audit/AuditService';
import { AuthService } from './auth/AuthService';
import { LiveSessions } from './auth/LiveSessions';
import { defaultThrottleLimits, LoginThrottle, type ThrottleLimits } from './auth/LoginThrottle';
import { BuildRunner } from './builds/BuildRunner';
import { type AgentEndpoint, BuildService } from './builds/BuildService';
import { JobQueue } from './builds/JobQueue';
import { LocalJobSource } from './builds/LocalJobSource';
import { ChatService } from './chat/ChatService';
import type { ServerConfig } from './config/ServerConfig';
import { type Db, migrateToLatest, openDb } from './db/database';
import { EventBus } from './events/EventBus';
import { frontDoorServer, GatewayFrontDoor } from './gateway/GatewayFrontDoor';
import { GatewayHandler } from './gateway/GatewayHandler';
import { gatewayPlugin } from './gateway/gatewayPlugin';
import { healthPlugin } from './health/healthPlugin';
import { createLogger, type Logger } from './log/logger';
import { DockerProvisioner } from './provisioners/docker/DockerProvisioner';
import { LocalProvisioner } from './provisioners/local/LocalProvisioner';
import { ProvisionerKeysService } from './provisioners/ProvisionerKeysService';
import { loadSecretBox } from './secrets/SecretBox';
import { builtinTemplatesDir } from './templates/builtinTemplates';
import { TemplatesService } from './templates/TemplatesService';
import { TunnelRelay } from './tunnels/TunnelRelay';
import { tunnelPlugin } from './tunnels/tunnelPlugin';
import { WireguardService } from './tunnels/wireguard/WireguardService';
import { UsersService } from './users/UsersService';
import { webPlugin } from './web/webPlugin';
import { Scheduler } from './workspaces/Scheduler';
import { WorkspacesService } from './workspaces/WorkspacesService';

export const BODY_LIMIT_BYTES = 1024 * 1024;
/** How long shutdown waits for in-flight requests before it closes the database anyway. */
const SHUTDOWN_GRACE_MS = 30_000;

export interface DaemonOptions {
  /** Where log lines go (default stdout). */
  logDestination?: NodeJS.WritableStream;
  now?: () => number;
  throttle?: ThrottleLimits;
  /** How long a provisioner holds a job between renewals (default 30 s; tests shorten it). */
  leaseMs?: number;
  /** How often the scheduler looks for autostops, autostarts and lapsed jobs (default 5 s). */
  schedulerIntervalMs?: number;
}

export interface Daemon {
  app: FastifyInstance;
  db: Db;
  log: Logger;
  services: Services;
  /** The URL people use: the access URL, or the bound address. */
  url: string;
  /** Stops accepting connections, finishes in-flight requests, then closes the database. */
  close(): Promise<void>;
}

/** The daemon is a list of features mounted on one Fastify server. */
export async function startDaemon(config: ServerConfig, options: DaemonOptions = {}): Promise<Daemon> {
  const log = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    destination: options.logDestination,
  });
  const db = openDb(
    config.postgresUrl
      ? { dialect: 'postgres', url: config.postgresUrl }
      : { dialect: 'sqlite', file: path.join(config.dataDir, 'warren.db') },
  );
  try {
    const applied = await migrateToLatest(db);
    if (applied.length) log.info({ migrations: applied }, 'database migrated');
  } catch (error) {
    await db.close();
    throw new WarrenError(
      'UNAVAILABLE',
      `Could not open or migrate the ${db.dialect} database: ${(error as Error).message}`,
    );
  }

  const now = options.now ?? Date.now;
  const live = new LiveSessions();
  const bus = new EventBus();
  const secureCookies = Boolean(config.tlsCert) || config.accessUrl?.startsWith('https:') === true;
  // Hidden tuning for tests and fault drills: how long a job lease lasts, how often the scheduler runs.
  const leaseMs = options.leaseMs ?? Number(process.env.WARREN_PROVISIONER_LEASE_MS ?? 30_000);
  const schedulerIntervalMs =
    options.schedulerIntervalMs ?? Number(process.env.WARREN_SCHEDULER_INTERVAL_MS ?? 5000);
  // Known once the server listens (the port may be chosen then); agents dial it.
  const endpoint: AgentEndpoint = { daemonUrl: config.accessUrl ?? '' };
  const queue = new JobQueue(db, bus, now);
  const templates = new TemplatesService(db, now);
  const builds = new BuildService(db, queue, bus, endpoint, now);
  const workspaces = new WorkspacesService(db, templates, builds, queue, bus, config.workspaceQuota, now);
  const agents = new AgentService(db, bus, now);
  const users = new UsersService(db, live, now);
  const secrets = loadSecretBox(config.dataDir);
  // Its onCatalogChange hook is where the gateway's directory learns of every change.
  const aiCatalog = new AiCatalogService(db, secrets, now);
  const auth = new AuthService(
    db,
    new LoginThrottle(options.throttle ?? defaultThrottleLimits, now),
    live,
    now,
  );
  const gateway = new GatewayHandler(
    { db, postgresUrl: config.postgresUrl, auth, live, secrets, log },
    // Hidden tuning for tests and fault drills: how long a provider may stay silent.
    { now, upstreamTimeoutMs: Number(process.env.WARREN_AI_UPSTREAM_TIMEOUT_MS ?? 600_000) },
  );
  aiCatalog.onCatalogChange = () => gateway.directory.invalidate();
  const agentConnections = new AgentConnections();
  const agentRpc = new AgentRpc(agentConnections);
  const tunnels = new TunnelRelay(agentConnections, live, (workspaceId) => {
    workspaces
      .bumpActivity(workspaceId)
      .catch((error) => log.warn({ err: error }, 'could not record activity'));
  });
  // WireGuard mode is opt-in: agents on a shared host would otherwise each add a TUN device there.
  const wireguard = new WireguardService({
    agents,
    workspaces,
    live,
    send: (agentId, frame) => agentConnections.send(agentId, frame),
    enabled: process.env.WARREN_WIREGUARD === '1',
  });
  const services: Services = {
    auth,
    users,
    audit: new AuditService(db, now),
    live,
    templates,
    workspaces,
    builds,
    queue,
    provisionerKeys: new ProvisionerKeysService(db, now),
    agents,
    agentRpc,
    tunnels,
    wireguard,
    aiCatalog,
    aiPolicy: new AiPolicyService(db, aiCatalog, users, now),
    aiUsage: new UsageService(db, users),
    chats: new ChatService(
      { db, gateway, workspaces, agent: agentRpc, log, now },
      { directProvider: config.chatDirectProvider },
    ),
    gateway,
    secrets,
    leaseMs,
    log,
    secureCookies,
  };
  const seeded = await templates.seedBuiltins(builtinTemplatesDir());
  if (seeded.length) log.info({ templates: seeded }, 'built-in templates added');

  const inFlight = new InFlightRequests();
  // Model calls reach the gateway before Fastify; everything else, Fastify as usual.
  const gatewayFrontDoor = new GatewayFrontDoor(gateway, (res) => inFlight.track(res));
  const app = Fastify({
    loggerInstance: log,
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { maxParamLength: 5000 },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    serverFactory: frontDoorServer(gatewayFrontDoor),
    ...(config.tlsCert && config.tlsKey
      ? { https: { cert: fs.readFileSync(config.tlsCert), key: fs.readFileSync(config.tlsKey) } }
      : {}),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const message =
      status === 413
        ? `The request body is larger than the ${BODY_LIMIT_BYTES / 1024} KiB limit.`
        : status >= 500
          ? INTERNAL_MESSAGE
          : error.message;
    const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status >= 500 ? 'INTERNAL' : 'INVALID_INPUT';
    return reply.code(status).send({ error: { code, message } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        code: 'NOT_FOUND',
        message: `Nothing is served at ${request.method} ${request.url.split('?')[0]}.`,
      },
    }),
  );

  app.addHook('onRequest', async (_request, reply) => inFlight.track(reply.raw));
  const agentBinaryPath = resolveAgentBinaryPath();
  // One WebSocket server for every socket route: agents, agent streams, tunnels.
  await app.register(websocket, { options: { maxPayload: MAX_AGENT_FRAME_BYTES } });
  // The 101 and what a route sends at once (a tunnel's `connected`) leave in one write: on a
  // loopback socket each write is a syscall costing as much as the rest of the upgrade.
  app.websocketServer.on('headers', (_headers, request) => tickCorker(request.socket)());
  await app.register(healthPlugin, db);
  await app.register(apiPlugin, services);
  await gateway.start();
  await app.register(gatewayPlugin, gateway);
  // After the gateway: turns cut short by a restart are settled, and waiting ones resume.
  await services.chats.start();
  await app.register(usageCsvPlugin, services);
  await app.register(agentSocketPlugin, {
    agents,
    connections: agentConnections,
    rpc: agentRpc,
    tunnels,
    wireguard,
  });
  const watchingWorkspaces = new AbortController();
  void wireguard.watchWorkspaces(bus, watchingWorkspaces.signal);
  await app.register(tunnelPlugin, { relay: tunnels, agents, auth, workspaces, events: bus });
  await app.register(agentBinaryPlugin, { binaryPath: agentBinaryPath });
  await app.register(webPlugin);

  const [host, port] = [config.listen.host, config.listen.port];
  let address: string;
  try {
    address = await app.listen({ host, port });
  } catch (error) {
    await db.close();
    const reason =
      (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? `${host}:${port} is already in use`
        : (error as Error).message;
    throw new WarrenError('UNAVAILABLE', `Could not listen on ${host}:${port}: ${reason}.`);
  }
  const url = config.accessUrl ?? address.replace('://0.0.0.0:', '://127.0.0.1:');
  endpoint.daemonUrl = url.replace(/\/$/, '');

  const runner = new BuildRunner(
    new LocalJobSource(queue, builds, bus, `builtin:${randomUUID()}`, {}, leaseMs),
    {
      local: new LocalProvisioner({ dataDir: config.dataDir, agentBinaryPath }),
      docker: new DockerProvisioner(),
    },
    { leaseMs, concurrency: config.provisioners, pollMs: 1000 },
    log,
  );
  if (config.provisioners > 0) runner.start();
  const scheduler = new Scheduler(db, workspaces, builds, queue, log, schedulerIntervalMs, now);
  scheduler.start();
  let closing: Promise<void> | undefined;
  return {
    app,
    db,
    log,
    services,
    url,
    close: () => {
      closing ??= (async () => {
        await scheduler.stop();
        await runner.stop();
        // Running turns end as interrupted while the gateway and database are still there.
        await services.chats.close();
        live.endAll();
        watchingWorkspaces.abort();
        wireguard.close();
        tunnels.closeAll();
        agentConnections.closeAll();
        gatewayFrontDoor.close();
        const closed = app.close();
        await inFlight.drained(SHUTDOWN_GRACE_MS);
        // Every request has finished: what is left are connections that carry none (a client's
        // spare keep-alive socket, say), which would hold the close for the headers timeout.
        app.server.closeAllConnections();
        await closed;
        await agentConnections.settled();
        await db.close();
      })();
      return closing;
    },
  };
}

/** Counts requests until their responses close (sent or aborted), so shutdown can wait for them. */
class InFlightRequests {
  #count = 0;
  readonly #waiters = new Set<() => void>();

  track(res: ServerResponse): void {
    this.#count += 1;
    res.once('close', () => {
      this.#count -= 1;
      if (this.#count === 0) for (const wake of this.#waiters) wake();
    });
  }

  drained(timeoutMs: number): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
    });
  }
}
