import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import websocket from '@fastify/websocket';
import { type AgentSpec, encodeAgentFrame, Secret } from '@warren/core';
import { ephemeralKeyPair } from '@warren/core/node';
import { waitFor as waitUntil } from '@warren/core/test-support/waitFor';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AgentConnections, REPLACED_CLOSE_CODE } from '../src/agents/AgentConnections';
import { type AgentLogsEvent, AgentService, type AgentStateEvent } from '../src/agents/AgentService';
import { agentBinaryPlugin } from '../src/agents/agentBinaryPlugin';
import { createAgent } from '../src/agents/agentQueries';
import { AGENT_CONNECT_PATH, agentSocketPlugin } from '../src/agents/agentSocketPlugin';
import { mintAgentToken } from '../src/agents/agentToken';
import { type Db, migrateToLatest, openDb } from '../src/db/database';
import { EventBus } from '../src/events/EventBus';
import { createLogger } from '../src/log/logger';
import {
  ARTIFACTS_DIR,
  createThrowawayDatabase,
  dialects,
  rememberSecret,
  type TestDialect,
} from './harness';

const agentDir = path.resolve(import.meta.dirname, '..', '..', 'agent');
const agentBundle = path.join(agentDir, 'dist', 'warren-agent.mjs');

beforeAll(() => {
  // Builds the bundle when it is missing or older than its sources.
  execFileSync(process.execPath, ['build.mjs', '--if-stale'], { cwd: agentDir });
}, 60_000);

/** A Fastify server with only the agent plugins, on a fresh database of the given dialect. */
interface AgentWorld {
  db: Db;
  app: FastifyInstance;
  url: string;
  events: EventBus;
  agents: AgentService;
  connections: AgentConnections;
  /** Everything the server logged so far (also written to a file for the log scan). */
  logText(): string;
  close(): Promise<void>;
}

async function startAgentWorld(dialect: TestDialect): Promise<AgentWorld> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-agents-'));
  const database = dialect === 'postgres' ? await createThrowawayDatabase() : undefined;
  const db = openDb(
    database
      ? { dialect: 'postgres', url: database.url }
      : { dialect: 'sqlite', file: path.join(dataDir, 'warren.db') },
  );
  await migrateToLatest(db);
  const events = new EventBus();
  const agents = new AgentService(db, events);
  const connections = new AgentConnections();
  fs.mkdirSync(path.join(ARTIFACTS_DIR, 'logs'), { recursive: true });
  const logFile = path.join(ARTIFACTS_DIR, 'logs', `agents-${dialect}-${path.basename(dataDir)}.log`);
  const logStream = fs.createWriteStream(logFile);
  // Another run's global setup may clear test-results meanwhile; the in-memory copy still holds.
  logStream.on('error', () => {});
  let logged = '';
  // A plain sink rather than a Writable, so a line is in memory as soon as it is logged.
  const destination = {
    write(chunk: string) {
      logged += chunk;
      if (!logStream.writableEnded) logStream.write(chunk);
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  const app = Fastify({
    loggerInstance: createLogger({ level: 'debug', format: 'json', destination }),
  }) as unknown as FastifyInstance;
  // At the root, as the daemon does: then a refused upgrade (the agent's standby stream dial,
  // which this server does not route) has its socket destroyed instead of left half open.
  await app.register(websocket);
  await app.register(agentSocketPlugin, { agents, connections, pingIntervalMs: 1000 });
  await app.register(agentBinaryPlugin, { binaryPath: agentBundle });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    db,
    app,
    url: address,
    events,
    agents,
    connections,
    logText: () => logged,
    async close() {
      await app.close();
      await db.close();
      await new Promise<void>((resolve) => logStream.end(resolve));
      await database?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface SeededAgent {
  agentId: string;
  workspaceId: string;
  token: Secret;
}

/** The rows an agent needs: owner, template and version (with `spec`), workspace, job and build. */
async function seedAgent(db: Db, spec: Partial<AgentSpec> = {}): Promise<SeededAgent> {
  const now = Date.now();
  const [userId, templateId, versionId, workspaceId, jobId, buildId] = Array.from({ length: 6 }, () =>
    randomUUID(),
  );
  const k = db.kysely;
  const suffix = (userId as string).slice(0, 8);
  await k
    .insertInto('users')
    .values({
      id: userId as string,
      username: `u${suffix}`,
      email: `u${suffix}@example.com`,
      password_hash: 'x',
      status: 'active',
      created_at: now,
      updated_at: now,
      last_seen_at: null,
    })
    .execute();
  await k
    .insertInto('templates')
    .values({
      id: templateId as string,
      name: `t${suffix}`,
      display_name: null,
      description: null,
      active_version_id: null,
      created_by: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  const manifest = {
    name: `t${suffix}`,
    parameters: [],
    provisioner: { type: 'local', local: { workdir: '.', env: {}, sandbox: false }, tags: {} },
    agent: { scriptTimeout: '5m', apps: [], metadata: [], ...spec },
    schedule: { autostartAllowed: true },
  };
  await k
    .insertInto('template_versions')
    .values({
      id: versionId as string,
      template_id: templateId as string,
      number: 1,
      manifest: JSON.stringify(manifest),
      source: '',
      files: '{}',
      message: null,
      created_by: null,
      created_at: now,
    })
    .execute();
  await k
    .insertInto('workspaces')
    .values({
      id: workspaceId as string,
      owner_id: userId as string,
      name: 'dev',
      template_id: templateId as string,
      template_version_id: versionId as string,
      parameters: '{}',
      latest_build_id: buildId as string,
      ttl_ms: null,
      deadline: null,
      autostart_cron: null,
      autostart_timezone: null,
      next_autostart_at: null,
      last_activity_at: null,
      created_at: now,
      updated_at: now,
      deleted_at: null,
    })
    .execute();
  await k
    .insertInto('provisioner_jobs')
    .values({
      id: jobId as string,
      kind: 'workspace_build',
      status: 'running',
      input: '{}',
      tags: '{}',
      worker_id: null,
      lease_expires_at: null,
      error: null,
      cancel_requested_at: null,
      created_at: now,
      started_at: now,
      completed_at: null,
    })
    .execute();
  await k
    .insertInto('workspace_builds')
    .values({
      id: buildId as string,
      workspace_id: workspaceId as string,
      number: 1,
      transition: 'start',
      reason: 'initiator',
      initiator_id: userId as string,
      template_version_id: versionId as string,
      parameters: '{}',
      job_id: jobId as string,
      provisioner_state: null,
      created_at: now,
    })
    .execute();
  const { token, tokenHash } = mintAgentToken();
  rememberSecret(token.reveal());
  const agent = await createAgent(k, {
    workspaceId: workspaceId as string,
    buildId: buildId as string,
    tokenHash,
    now,
  });
  return { agentId: agent.id, workspaceId: workspaceId as string, token };
}

/** Polls until `check` gives a truthy value (false and null mean not yet). */
function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 15_000) {
  return waitUntil(what, async () => (await check()) || undefined, timeoutMs);
}

interface AgentProcess {
  child: ChildProcess;
  dir: string;
  output(): string;
  exited: Promise<number | null>;
}

const processes: AgentProcess[] = [];
const tokensUsed: string[] = [];

function spawnAgent(world: AgentWorld, token: Secret): AgentProcess {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-agent-home-'));
  tokensUsed.push(token.reveal());
  const child = spawn(process.execPath, [agentBundle], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      WARREN_AGENT_URL: world.url,
      WARREN_AGENT_TOKEN: token.reveal(),
      WARREN_AGENT_DIR: dir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const log = fs.createWriteStream(
    path.join(ARTIFACTS_DIR, 'logs', `agent-process-${path.basename(dir)}.log`),
  );
  log.on('error', () => {});
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk) => {
      out += chunk;
      if (!log.destroyed) log.write(chunk);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const agent = { child, dir, output: () => out, exited };
  processes.push(agent);
  return agent;
}

afterEach(async () => {
  for (const agent of processes.splice(0)) {
    if (agent.child.exitCode === null && agent.child.signalCode === null) agent.child.kill('SIGKILL');
    await agent.exited;
    // Whatever it printed, the agent never wrote its token.
    for (const token of tokensUsed) expect(agent.output()).not.toContain(token);
    fs.rmSync(agent.dir, { recursive: true, force: true });
  }
});

/** Lifecycle changes published for a workspace (connection events left out). */
function recordLifecycle(world: AgentWorld, workspaceId: string): string[] {
  const seen: string[] = [];
  world.events.listen<AgentStateEvent>(`workspace:${workspaceId}`, (event) => {
    if (event.type === 'agent' && event.connected === undefined) seen.push(event.lifecycle);
  });
  return seen;
}

async function lifecycleOf(world: AgentWorld, agentId: string) {
  return (await world.agents.get(agentId))?.lifecycle;
}

describe.each(dialects)('workspace agents on %s', (dialect) => {
  let world: AgentWorld;
  beforeAll(async () => {
    world = await startAgentWorld(dialect);
  });
  afterAll(() => world?.close());

  describe('AgentService', () => {
    it('accepts a token only for its own agent of a live workspace', async () => {
      const a = await seedAgent(world.db, { startupScript: 'echo hi', scriptTimeout: '2m' });
      const session = await world.agents.authenticate(a.token);
      expect(session?.agent.id).toBe(a.agentId);
      expect(session?.workspace.id).toBe(a.workspaceId);
      expect(session?.spec).toMatchObject({ startupScript: 'echo hi', scriptTimeout: '2m' });
      // What a stream dial checks: the same agent and workspace, without the template's spec.
      const identity = await world.agents.identify(a.token);
      expect(identity).toEqual({ agent: session?.agent, workspace: session?.workspace });

      for (const stranger of [mintAgentToken().token, new Secret('wrn_not_an_agent_token')]) {
        expect(await world.agents.authenticate(stranger)).toBeUndefined();
        expect(await world.agents.identify(stranger)).toBeUndefined();
      }
      await world.db.kysely
        .updateTable('workspaces')
        .set({ deleted_at: Date.now() })
        .where('id', '=', a.workspaceId)
        .execute();
      expect(await world.agents.authenticate(a.token)).toBeUndefined();
      expect(await world.agents.identify(a.token)).toBeUndefined();

      const b = await seedAgent(world.db);
      await world.agents.setLifecycle(b.agentId, 'off');
      expect(await world.agents.authenticate(b.token)).toBeUndefined();
      expect(await world.agents.identify(b.token)).toBeUndefined();
    });

    it('persists lifecycle changes before publishing them, and publishes nothing when nothing changed', async () => {
      const a = await seedAgent(world.db);
      const published: string[] = [];
      let persistedAtPublish: Promise<string | undefined> | undefined;
      const stop = world.events.listen<AgentStateEvent>(`workspace:${a.workspaceId}`, (event) => {
        published.push(event.lifecycle);
        persistedAtPublish = lifecycleOf(world, event.agentId);
      });
      expect(await world.agents.setLifecycle(a.agentId, 'starting')).toBe(true);
      expect(await persistedAtPublish).toBe('starting');
      expect(await world.agents.setLifecycle(a.agentId, 'starting')).toBe(false);
      expect(await world.agents.setLifecycle(a.agentId, 'ready')).toBe(true);
      stop();
      expect(published).toEqual(['starting', 'ready']);
      expect(await lifecycleOf(world, a.agentId)).toBe('ready');
    });

    it('keeps log lines in order with increasing sequence numbers, even from concurrent writers', async () => {
      const a = await seedAgent(world.db);
      const published: number[] = [];
      const stop = world.events.listen<AgentLogsEvent>(`agent-logs:${a.agentId}`, (e) =>
        published.push(...e.logs.map((l) => l.seq)),
      );
      const batch = (n: number) =>
        Array.from({ length: 3 }, (_, i) => ({ time: 1000 + n, line: `batch ${n} line ${i}\u0000` }));
      await world.agents.appendLogs(a.agentId, 'startup_script', batch(0));
      await Promise.all(
        [1, 2, 3, 4, 5].map((n) => world.agents.appendLogs(a.agentId, 'startup_script', batch(n))),
      );
      stop();
      const logs = await world.agents.listLogs(a.agentId);
      expect(logs.map((l) => l.seq)).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
      expect(logs.slice(0, 3).map((l) => l.line)).toEqual([
        'batch 0 line 0\uFFFD',
        'batch 0 line 1\uFFFD',
        'batch 0 line 2\uFFFD',
      ]);
      // Each batch stays contiguous.
      for (let i = 0; i < 18; i += 3)
        expect(new Set(logs.slice(i, i + 3).map((l) => l.line.split(' ')[1])).size).toBe(1);
      expect([...published].sort((x, y) => x - y)).toEqual(logs.map((l) => l.seq));
      expect((await world.agents.listLogs(a.agentId, 15)).map((l) => l.seq)).toEqual([16, 17, 18]);
    });
  });

  describe('a real agent process', () => {
    it('reports created, starting, ready and streams its startup output in order', async () => {
      const script = 'for i in $(seq 1 40); do echo "line $i"; done; echo "to stderr" >&2';
      const a = await seedAgent(world.db, { startupScript: script });
      const lifecycle = recordLifecycle(world, a.workspaceId);
      const published: string[] = [];
      world.events.listen<AgentLogsEvent>(`agent-logs:${a.agentId}`, (e) =>
        published.push(...e.logs.map((l) => l.line)),
      );
      expect(await lifecycleOf(world, a.agentId)).toBe('created');

      spawnAgent(world, a.token);
      await waitFor('ready', async () => (await lifecycleOf(world, a.agentId)) === 'ready');
      expect(lifecycle).toEqual(['starting', 'ready']);

      const logs = await world.agents.listLogs(a.agentId);
      const startup = logs.filter((l) => l.source === 'startup_script').map((l) => l.line);
      expect(startup.filter((l) => l.startsWith('line '))).toEqual(
        Array.from({ length: 40 }, (_, i) => `line ${i + 1}`),
      );
      expect(startup).toContain('to stderr');
      // Persisted before ready was reported, and published as persisted.
      expect(published).toEqual(logs.map((l) => l.line));
      const row = await world.agents.get(a.agentId);
      expect(row?.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(row?.first_connected_at).toBeGreaterThan(0);
      expect(world.connections.isConnected(a.agentId)).toBe(true);
    });

    it('reports start_error when the startup script fails, and says why', async () => {
      const a = await seedAgent(world.db, { startupScript: 'echo trying; exit 3' });
      spawnAgent(world, a.token);
      await waitFor('start_error', async () => (await lifecycleOf(world, a.agentId)) === 'start_error');
      const lines = (await world.agents.listLogs(a.agentId)).map((l) => `${l.source}: ${l.line}`);
      expect(lines).toContain('startup_script: trying');
      expect(lines).toContain('agent: the startup script exited with code 3');
    });

    it('reports start_error when the startup script runs past its timeout', async () => {
      const a = await seedAgent(world.db, { startupScript: 'echo started; sleep 60', scriptTimeout: '1s' });
      spawnAgent(world, a.token);
      await waitFor('start_error', async () => (await lifecycleOf(world, a.agentId)) === 'start_error');
      const lines = (await world.agents.listLogs(a.agentId)).map((l) => l.line);
      expect(lines.some((l) => /timed out/.test(l))).toBe(true);
    });

    it('reconnects after the daemon drops the socket, without running the startup script again', async () => {
      const a = await seedAgent(world.db, { startupScript: 'echo ran >> "$WARREN_AGENT_DIR/runs"' });
      const agent = spawnAgent(world, a.token);
      await waitFor('ready', async () => (await lifecycleOf(world, a.agentId)) === 'ready');
      const first = await world.agents.get(a.agentId);

      expect(world.connections.close(a.workspaceId, 1012, 'test drop')).toBe(1);
      await waitFor('disconnect recorded', async () => (await world.agents.get(a.agentId))?.disconnected_at);
      const again = await waitFor('reconnect', async () => {
        const row = await world.agents.get(a.agentId);
        return (
          row &&
          row.disconnected_at === null &&
          (row.last_connected_at ?? 0) > (first?.last_connected_at ?? 0) &&
          row
        );
      });
      expect(again.lifecycle).toBe('ready');
      expect(world.connections.isConnected(a.agentId)).toBe(true);
      expect(fs.readFileSync(path.join(agent.dir, 'runs'), 'utf8')).toBe('ran\n');
    });

    it('runs the shutdown script when told to shut down, reports off and exits 0', async () => {
      const a = await seedAgent(world.db, {
        startupScript: 'echo up',
        shutdownScript: 'echo saving; echo saved > "$WARREN_AGENT_DIR/shutdown-ran"',
      });
      const lifecycle = recordLifecycle(world, a.workspaceId);
      const agent = spawnAgent(world, a.token);
      await waitFor('ready', async () => (await lifecycleOf(world, a.agentId)) === 'ready');

      expect(world.connections.send(a.agentId, { type: 'shutdown' })).toBe(true);
      expect(await agent.exited).toBe(0);
      // The daemon finishes the frames that arrived before the agent hung up.
      await waitFor('off', async () => (await lifecycleOf(world, a.agentId)) === 'off');
      expect(lifecycle).toEqual(['starting', 'ready', 'shutting_down', 'off']);
      expect(fs.readFileSync(path.join(agent.dir, 'shutdown-ran'), 'utf8')).toBe('saved\n');
      const logs = await world.agents.listLogs(a.agentId);
      expect(logs.filter((l) => l.source === 'shutdown_script').map((l) => l.line)).toEqual(['saving']);
      await waitFor('disconnect recorded', async () => (await world.agents.get(a.agentId))?.disconnected_at);
      expect(world.connections.isConnected(a.agentId)).toBe(false);
    });

    it('shuts down the same way on SIGTERM', async () => {
      const a = await seedAgent(world.db, { shutdownScript: 'echo bye' });
      const agent = spawnAgent(world, a.token);
      await waitFor('ready', async () => (await lifecycleOf(world, a.agentId)) === 'ready');
      agent.child.kill('SIGTERM');
      expect(await agent.exited).toBe(0);
      await waitFor('off', async () => (await lifecycleOf(world, a.agentId)) === 'off');
      expect((await world.agents.listLogs(a.agentId)).map((l) => l.line)).toContain('bye');
    });

    it('gives up with a clear error and a non-zero exit when the daemon refuses its token', async () => {
      const response = await fetch(`${world.url}${AGENT_CONNECT_PATH}`, {
        headers: { authorization: `Bearer ${mintAgentToken().token.reveal()}` },
      });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');

      const stranger = mintAgentToken().token;
      rememberSecret(stranger.reveal());
      const agent = spawnAgent(world, stranger);
      expect(await agent.exited).toBe(1);
      expect(agent.output()).toMatch(/refused the agent token \(401/);
    });

    it('gives up and says why when the daemon refuses its host key, and `warren logs` shows why', async () => {
      const a = await seedAgent(world.db);
      // Pinned on an earlier connection: the fresh agent below makes a different key.
      await world.agents.markConnected(a.agentId, '0.0.0', ephemeralKeyPair().publicKey);
      const agent = spawnAgent(world, a.token);
      expect(await agent.exited).toBe(1);
      expect(agent.output()).toMatch(/giving up: the daemon refused this agent 3 times in a row: .*host key/);
      const lines = (await world.agents.listLogs(a.agentId)).map((l) => `${l.source}: ${l.line}`);
      expect(lines).toContain(
        "agent: The daemon refused this agent: The agent's SSH host key differs from the one pinned when it first connected; rebuild the workspace to trust a new key.",
      );
    });

    it('a startup script printing two million lines keeps the daemon’s memory bounded and loses no line silently', async () => {
      const total = 2_000_000;
      const a = await seedAgent(world.db, { startupScript: `yes | head -n ${total}`, scriptTimeout: '5m' });
      global.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 100);
      try {
        spawnAgent(world, a.token);
        await waitFor('ready', async () => (await lifecycleOf(world, a.agentId)) === 'ready', 150_000);
      } finally {
        clearInterval(sampler);
      }
      const count = async (source: string) =>
        Number(
          (
            await world.db.kysely
              .selectFrom('agent_logs')
              .select((eb) => eb.fn.countAll().as('n'))
              .where('agent_id', '=', a.agentId)
              .where('source', '=', source as 'agent')
              .executeTakeFirstOrThrow()
          ).n,
        );
      const dropNotices = () =>
        world.db.kysely
          .selectFrom('agent_logs')
          .select('line')
          .where('agent_id', '=', a.agentId)
          .where('source', '=', 'agent')
          .where('line', 'like', '%batches of log lines were dropped%')
          .execute();
      // The notice is a log line of its own, batched after the drop: it may trail `ready`, and on
      // a loaded machine (PostgreSQL beside the whole suite) the last batches can take a while.
      await waitFor(
        'every line or a dropped notice',
        async () => ((await count('startup_script')) === total ? true : (await dropNotices()).length > 0),
        240_000,
      );
      expect(await count('startup_script')).toBeGreaterThan(0);
      // Said once per backlog, not once per dropped frame.
      expect((await dropNotices()).length).toBeLessThan(5);
      // Unbounded, the daemon held every queued frame: hundreds of megabytes for this script.
      expect(peak - before).toBeLessThan(160 * 1024 * 1024);
    }, 420_000);

    it('never hands its token to scripts or prints it', async () => {
      const a = await seedAgent(world.db, { startupScript: 'env; echo "token=[$WARREN_AGENT_TOKEN]"' });
      spawnAgent(world, a.token);
      await waitFor('ready', async () => (await lifecycleOf(world, a.agentId)) === 'ready');
      const lines = (await world.agents.listLogs(a.agentId)).map((l) => l.line);
      expect(lines).toContain('token=[]');
      expect(lines.join('\n')).not.toContain(a.token.reveal());
      // The afterEach hook checks the agent's own stdout and stderr.
    });
  });

  describe('the agent socket', () => {
    function dial(token: Secret): Promise<WebSocket> {
      const ws = new WebSocket(`${world.url.replace('http', 'ws')}${AGENT_CONNECT_PATH}`, {
        headers: { authorization: `Bearer ${token.reveal()}` },
      });
      return new Promise((resolve, reject) => {
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      });
    }
    function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
      return new Promise((resolve) =>
        ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
      );
    }
    const hello = encodeAgentFrame({
      type: 'hello',
      version: '9.9.9',
      os: 'linux',
      arch: 'x64',
      hostname: 'h',
    });

    // The pause is the same on both dialects; two million rows take PostgreSQL minutes on a busy machine.
    if (dialect !== 'sqlite')
      console.log(
        'Skipping the flooding-agent test on postgres: the socket pause it checks is the same code on both dialects, and two million rows take PostgreSQL minutes here.',
      );
    it.runIf(dialect === 'sqlite')(
      'reads no faster than it stores: a flooding agent loses no line and the daemon’s memory stays bounded',
      async () => {
        const a = await seedAgent(world.db);
        const frames = 2000;
        const linesPerFrame = 1000;
        // In another process, so the flood's own send buffer (which grows while the daemon waits) is not counted here.
        const flood = `
        const WebSocket = require('ws');
        const ws = new WebSocket(process.argv[1] + '${AGENT_CONNECT_PATH}', { headers: { authorization: 'Bearer ' + process.env.TOKEN } });
        ws.on('open', () => {
          ws.send(process.argv[2]);
          const lines = Array.from({ length: ${linesPerFrame} }, () => ({ time: Date.now(), line: 'y' }));
          const frame = JSON.stringify({ type: 'logs', source: 'startup_script', lines });
          for (let i = 0; i < ${frames}; i++) ws.send(frame);
        });
        ws.on('error', (e) => { console.error(e.message); process.exit(1); });`;
        const child = spawn(process.execPath, ['-e', flood, world.url.replace(/^http/, 'ws'), hello], {
          cwd: import.meta.dirname,
          env: { PATH: process.env.PATH, TOKEN: a.token.reveal() },
          stdio: 'ignore',
        });
        try {
          // Frames read ahead of the database would sit in memory as Buffers, so their bytes are
          // what is measured. RSS moves with the heap's garbage and SQLite's cache too: it grew
          // by 27 to 79 MiB between runs of this same test, with nothing held.
          const before = process.memoryUsage().arrayBuffers;
          let peak = before;
          const stored = async () =>
            Number(
              (
                await world.db.kysely
                  .selectFrom('agent_logs')
                  .select((eb) => eb.fn.countAll().as('n'))
                  .where('agent_id', '=', a.agentId)
                  .executeTakeFirstOrThrow()
              ).n,
            );
          await waitFor(
            'every line stored',
            async () => {
              peak = Math.max(peak, process.memoryUsage().arrayBuffers);
              return (await stored()) === frames * linesPerFrame;
            },
            120_000,
          );
          // Read as fast as it arrives, the daemon held ~90 MB of frames waiting for the database.
          expect(peak - before).toBeLessThan(16 * 1024 * 1024);
        } finally {
          child.kill('SIGKILL');
        }
      },
      150_000,
    );

    it('answers hello with the manifest built from the template version', async () => {
      const a = await seedAgent(world.db, {
        startupScript: 'make',
        shutdownScript: 'save',
        scriptTimeout: '90s',
      });
      const ws = await dial(a.token);
      const first = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
      ws.send(hello);
      expect(JSON.parse(await first)).toEqual({
        type: 'manifest',
        agentId: a.agentId,
        startupScript: 'make',
        shutdownScript: 'save',
        scriptTimeoutMs: 90_000,
        apps: [],
        metadata: [],
      });
      ws.close();
    });

    it('closes with 1008 on a frame that breaks the protocol, and logs it without the token', async () => {
      const a = await seedAgent(world.db);
      const ws = await dial(a.token);
      const end = closed(ws);
      ws.send(hello);
      ws.send('{"type":"lifecycle","state":"sleeping"}');
      const { code, reason } = await end;
      expect(code).toBe(1008);
      expect(reason).toMatch(/lifecycle/);
      expect(await lifecycleOf(world, a.agentId)).toBe('created');
      expect(world.logText()).toContain('bad frame');
      expect(world.logText()).not.toContain(a.token.reveal());
    });

    it('expects hello first', async () => {
      const a = await seedAgent(world.db);
      const ws = await dial(a.token);
      const end = closed(ws);
      ws.send(encodeAgentFrame({ type: 'lifecycle', state: 'ready' }));
      expect(await end).toMatchObject({ code: 1008, reason: expect.stringMatching(/hello/) });
      expect(await lifecycleOf(world, a.agentId)).toBe('created');
    });

    it('keeps one connection per agent: a new one replaces the old', async () => {
      const a = await seedAgent(world.db);
      const old = await dial(a.token);
      const oldEnd = closed(old);
      const fresh = await dial(a.token);
      expect((await oldEnd).code).toBe(REPLACED_CLOSE_CODE);
      fresh.send(hello);
      await waitFor('connected', async () => (await world.agents.get(a.agentId))?.last_connected_at);
      expect(world.connections.isConnected(a.agentId)).toBe(true);
      // The replaced socket's close did not mark the agent disconnected.
      expect((await world.agents.get(a.agentId))?.disconnected_at).toBeNull();
      fresh.close();
    });

    it('refuses a plain HTTP request with a valid token', async () => {
      const a = await seedAgent(world.db);
      const response = await fetch(`${world.url}${AGENT_CONNECT_PATH}`, {
        headers: { authorization: `Bearer ${a.token.reveal()}` },
      });
      expect(response.status).toBe(426);
    });
  });
});

describe('the agent download', () => {
  let app: FastifyInstance | undefined;
  afterEach(() => app?.close());

  it('serves the built bundle with a length and a validator, and 304 when it is unchanged', async () => {
    app = Fastify();
    await app.register(agentBinaryPlugin, { binaryPath: agentBundle });
    const response = await app.inject({ method: 'GET', url: '/bin/warren-agent.mjs' });
    expect(response.statusCode).toBe(200);
    expect(Number(response.headers['content-length'])).toBe(fs.statSync(agentBundle).size);
    expect(response.headers['content-type']).toMatch(/javascript/);
    expect(response.headers['cache-control']).toBe('no-cache');
    const etag = String(response.headers.etag);
    const again = await app.inject({
      method: 'GET',
      url: '/bin/warren-agent.mjs',
      headers: { 'if-none-match': etag },
    });
    expect(again.statusCode).toBe(304);
  });

  it('says the agent is not built when the bundle is missing', async () => {
    app = Fastify();
    await app.register(agentBinaryPlugin, {
      binaryPath: path.join(os.tmpdir(), 'no-such-dir', 'warren-agent.mjs'),
    });
    const response = await app.inject({ method: 'GET', url: '/bin/warren-agent.mjs' });
    expect(response.statusCode).toBe(503);
    expect(response.json().error.message).toMatch(/not built/);
  });

  it('runs with nothing but node: no node_modules beside it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-agent-alone-'));
    const copy = path.join(dir, 'warren-agent.mjs');
    fs.copyFileSync(agentBundle, copy);
    const child = spawn(process.execPath, [copy], {
      cwd: dir,
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c) => {
      err += c;
    });
    const code = await new Promise((r) => child.on('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
    // It loaded every module and got as far as reading its settings.
    expect(code).toBe(1);
    expect(err).toContain('WARREN_AGENT_URL is not set');
  });
});
