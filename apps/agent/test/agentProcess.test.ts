import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {
  type AgentToDaemonFrame,
  type DaemonToAgentFrame,
  decodeAgentFrame,
  encodeAgentFrame,
} from '@warren/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';

const agentDir = path.resolve(import.meta.dirname, '..');
const bundle = path.join(agentDir, 'dist', 'warren-agent.mjs');
const TOKEN = 'wat_agent-process-test-token-0123456789abcdefghijk';

beforeAll(() => {
  execFileSync(process.execPath, ['build.mjs', '--if-stale'], { cwd: agentDir });
}, 60_000);

/** A stand-in for the daemon's agent socket that records what each connection received. */
class FakeDaemon {
  readonly connections: AgentToDaemonFrame[][] = [];
  /** The status the next upgrades get instead of a connection (401, 503), or undefined to accept. */
  refuseWith: number | undefined;
  refused = 0;
  sockets: WebSocket[] = [];
  onFrame: (frame: AgentToDaemonFrame, socket: WebSocket) => void = () => {};
  readonly server: WebSocketServer;

  constructor(private readonly manifest: DaemonToAgentFrame) {
    this.server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      path: '/api/v2/agents/connect',
      verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, status?: number) => void) => {
        const authorized = info.req.headers.authorization === `Bearer ${TOKEN}`;
        if (!authorized || this.refuseWith) {
          this.refused += 1;
          return done(false, authorized ? this.refuseWith : 401);
        }
        done(true);
      },
    });
    this.server.on('connection', (socket) => {
      const frames: AgentToDaemonFrame[] = [];
      this.connections.push(frames);
      this.sockets.push(socket);
      socket.on('message', (data) => {
        const frame = decodeAgentFrame(data as Buffer, 'to-daemon');
        frames.push(frame);
        if (frame.type === 'hello') socket.send(encodeAgentFrame(this.manifest));
        this.onFrame(frame, socket);
      });
    });
  }

  listening(): Promise<void> {
    return this.server.address()
      ? Promise.resolve()
      : new Promise((resolve) => this.server.once('listening', resolve));
  }

  get url(): string {
    const address = this.server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  all(): AgentToDaemonFrame[] {
    return this.connections.flat();
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const manifest = (startupScript?: string): DaemonToAgentFrame => ({
  type: 'manifest',
  agentId: 'agent-1',
  startupScript,
  scriptTimeoutMs: 30_000,
  apps: [],
  metadata: [],
});

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function startAgent(daemon: FakeDaemon, token = TOKEN) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-agent-test-'));
  const child: ChildProcess = spawn(process.execPath, [bundle], {
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      WARREN_AGENT_URL: daemon.url,
      WARREN_AGENT_TOKEN: token,
      WARREN_AGENT_DIR: dir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c) => {
    output += c;
  });
  child.stderr?.on('data', (c) => {
    output += c;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { child, exited, output: () => output };
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const states = (frames: AgentToDaemonFrame[]) =>
  frames.flatMap((f) => (f.type === 'lifecycle' ? [f.state] : []));
const lines = (frames: AgentToDaemonFrame[]) =>
  frames.flatMap((f) =>
    f.type === 'logs' && f.source === 'startup_script' ? f.lines.map((l) => l.line) : [],
  );

describe('the agent process', { timeout: 20_000 }, () => {
  it('opens every connection with hello and its current lifecycle', async () => {
    const daemon = new FakeDaemon(manifest('echo hi'));
    cleanups.push(() => daemon.close());
    await daemon.listening();
    const agent = startAgent(daemon);
    await until('ready', () => states(daemon.all()).includes('ready'));
    expect(daemon.connections[0]?.[0]).toMatchObject({
      type: 'hello',
      os: process.platform,
      arch: process.arch,
    });
    expect(states(daemon.all())).toEqual(['created', 'starting', 'ready']);

    daemon.sockets[0]?.terminate();
    await until('second connection', () => (daemon.connections[1]?.length ?? 0) >= 2);
    expect(daemon.connections[1]?.map((f) => f.type)).toEqual(['hello', 'lifecycle']);
    expect(states(daemon.connections[1] ?? [])).toEqual(['ready']);
    expect(agent.output()).not.toContain(TOKEN);
  });

  it('keeps what it could not send while the daemon was away and sends it in order when it is back', async () => {
    const daemon = new FakeDaemon(manifest('echo before; sleep 0.8; echo during1; echo during2'));
    cleanups.push(() => daemon.close());
    await daemon.listening();
    // Drop the link as soon as the script starts, and refuse to reconnect for a while.
    daemon.onFrame = (frame, socket) => {
      if (frame.type === 'lifecycle' && frame.state === 'starting' && daemon.connections.length === 1) {
        daemon.refuseWith = 503;
        socket.terminate();
        setTimeout(() => {
          daemon.refuseWith = undefined;
        }, 1500);
      }
    };
    startAgent(daemon);
    await until('ready', () => states(daemon.all()).includes('ready'));
    expect(daemon.refused).toBeGreaterThan(0);
    expect(lines(daemon.all())).toEqual(['before', 'during1', 'during2']);
    // The script's output arrives before the state that follows it.
    const later = daemon.connections.at(-1) ?? [];
    const readyAt = later.findIndex((f) => f.type === 'lifecycle' && f.state === 'ready');
    const lastLogAt = later.findLastIndex((f) => f.type === 'logs' && f.source === 'startup_script');
    expect(lastLogAt).toBeLessThan(readyAt);
  });

  it('exits 1 after the daemon refuses its token a few times, without printing it', async () => {
    const daemon = new FakeDaemon(manifest());
    cleanups.push(() => daemon.close());
    await daemon.listening();
    const wrong = 'wat_this-token-is-wrong-000000000000000000000000';
    const agent = startAgent(daemon, wrong);
    expect(await agent.exited).toBe(1);
    expect(daemon.refused).toBe(3);
    expect(agent.output()).toContain('refused the agent token');
    expect(agent.output()).not.toContain(wrong);
  });

  it('on SIGTERM reports shutting_down and off, then exits 0', async () => {
    const daemon = new FakeDaemon(manifest());
    cleanups.push(() => daemon.close());
    await daemon.listening();
    const agent = startAgent(daemon);
    await until('ready', () => states(daemon.all()).includes('ready'));
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect(states(daemon.all()).slice(-2)).toEqual(['shutting_down', 'off']);
  });
});
