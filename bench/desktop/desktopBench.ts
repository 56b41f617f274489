// The measured half of `pnpm bench:desktop`, bundled by run.mjs and run as `node --expose-gc`:
// a real daemon (the built warren.mjs, restartable on a fixed port), one running local workspace
// serving HTTP, 200 more workspaces parked in the queue (their template asks for a provisioner tag
// nobody offers, so they stay pending without 200 agents), and the desktop's main-process modules.
// Prints one JSON line of results on stdout; progress goes to stderr.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Secret } from '@warren/core';
import { connectWorkspaceSsh } from '@warren/core/node';
import { createDaemonClient } from '../../apps/desktop/src/main/api/daemonClient';
import { DesktopMain } from '../../apps/desktop/src/main/DesktopMain';
import { freePort } from '../../packages/core/test-support/freePort';

const { WARREN_DAEMON_BIN: DAEMON_BIN = '', WARREN_AGENT_BIN: AGENT_BIN = '' } = process.env;
const WORKSPACES = Number(process.env.BENCH_WORKSPACES ?? 200);
const FORWARDS = Number(process.env.BENCH_FORWARDS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const log = (message: string) => process.stderr.write(`${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Daemon {
  child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    readonly dataDir: string,
  ) {}
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  async start(): Promise<number> {
    const began = performance.now();
    const child = spawn(
      process.execPath,
      [
        DAEMON_BIN,
        'server',
        '--listen',
        `127.0.0.1:${this.port}`,
        '--data-dir',
        this.dataDir,
        '--log-level',
        'warn',
        '--workspace-quota',
        '10000',
      ],
      { env: { ...process.env, WARREN_AGENT_BINARY: AGENT_BIN }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk) => {
        out += chunk;
        if (out.includes('Warren is running at')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`warren server exited with ${code}`)));
    });
    return performance.now() - began;
  }
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 90_000,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(everyMs);
  }
  throw new Error(`Timed out waiting for ${what}.`);
}

function memory() {
  (globalThis as { gc?: () => void }).gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-bench-desktop-'));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-bench-desktop-home-'));
  const daemon = new Daemon(await freePort(), dataDir);
  let stopWorkspace = async () => {};
  let killServer = async () => {};
  try {
    const baseline = memory();
    await daemon.start();
    const password = `bench-${randomBytes(8).toString('hex')}`;
    const anon = createDaemonClient({ url: daemon.url, token: new Secret('') });
    await anon.setup.createFirstUser.mutate({ username: 'owner', email: 'owner@example.com', password });
    const login = await anon.auth.login.mutate({ login: 'owner', password, sessionIn: 'body' });
    const session = createDaemonClient({ url: daemon.url, token: new Secret(login.token ?? '') });
    const token = (await session.tokens.create.mutate({ name: 'bench-desktop' })).token;
    const api = createDaemonClient({ url: daemon.url, token: new Secret(token) });

    log('creating the running workspace and its HTTP server');
    await api.workspaces.create.mutate({
      name: 'dev',
      template: 'local',
      parameters: { file_server: false },
    });
    const status = async () => (await api.workspaces.get.query({ name: 'dev' })).status;
    stopWorkspace = async () => {
      // The agent outlives the daemon, so the workspace is stopped (and seen stopped) before the daemon goes.
      await until('dev to be stoppable', async () => ((await status()) === 'running' ? true : undefined));
      await api.workspaces.stop.mutate({ name: 'dev' });
      await until('dev to stop', async () => ((await status()) === 'stopped' ? true : undefined));
    };
    await until('dev to be ready', async () => {
      const ws = await api.workspaces.get.query({ name: 'dev' });
      return ws.status === 'running' && ws.agent?.lifecycle === 'ready' ? ws : undefined;
    });
    const remotePort = await freePort();
    const ssh = await connectWorkspaceSsh({ url: daemon.url, token: new Secret(token) }, 'dev');
    const script = `require('http').createServer((q, s) => s.end('ok')).listen(${remotePort}, '127.0.0.1')`;
    await new Promise<void>((resolve, reject) =>
      ssh.client.exec(
        `setsid nohup node -e "${script}" >/dev/null 2>&1 </dev/null & echo $! > http.pid`,
        (error, channel) => (error ? reject(error) : channel.on('close', () => resolve()).resume()),
      ),
    );
    ssh.close();
    killServer = async () => {
      const again = await connectWorkspaceSsh({ url: daemon.url, token: new Secret(token) }, 'dev');
      await new Promise<void>((resolve) =>
        again.client.exec('kill $(cat http.pid)', (error, channel) =>
          error ? resolve() : channel.on('close', () => resolve()).resume(),
        ),
      );
      again.close();
    };

    log(`parking ${WORKSPACES} workspaces in the queue`);
    await api.templates.push.mutate({
      name: 'parked',
      manifest: 'name: parked\nprovisioner:\n  type: local\n  tags:\n    pool: nobody-serves-this\n',
    });
    for (let i = 0; i < WORKSPACES; i++)
      await api.workspaces.create.mutate({
        name: `ws-${String(i).padStart(3, '0')}`,
        template: 'parked',
        parameters: {},
      });

    const main = new DesktopMain({
      userDataDir: path.join(home, 'userData'),
      sshDir: path.join(home, '.ssh'),
      safeStorage: {
        isEncryptionAvailable: () => true,
        encryptString: (text) => Buffer.from(text).reverse(),
        decryptString: (data) => Buffer.from(data).reverse().toString(),
      },
      platform: {
        openExternal() {},
        copyText() {},
        openTerminal() {},
        notify() {},
        openWindow() {},
        quit() {},
      },
      log: { debug() {}, info() {}, warn() {}, error() {} },
      proxy: { runtime: process.execPath, script: '/dev/null' },
    });
    await main.start();
    await main.addDeployment({ url: daemon.url, token });
    const state = main.workspaceState();
    await state?.until((s) => s.connection === 'connected' && s.workspaces.length === WORKSPACES + 1);
    const tunnels = main.tunnels();
    const localPorts: number[] = [];
    for (let i = 0; i < FORWARDS; i++) {
      const local = await freePort();
      localPorts.push(local);
      tunnels.addForward('dev', `${local}:${remotePort}`);
    }
    await tunnels.open('dev');
    const page = (port: number) =>
      fetch(`http://127.0.0.1:${port}/`).then((r) => (r.ok ? r.text() : undefined));
    for (const port of localPorts) await until(`port ${port}`, () => page(port));
    const trayStarted = performance.now();
    const trayRuns = 50;
    for (let i = 0; i < trayRuns; i++) main.trayMenu();
    const trayMs = (performance.now() - trayStarted) / trayRuns;
    main.syncSshConfig();
    await sleep(500);
    const loaded = memory();

    log(`restarting the daemon ${ROUNDS} times`);
    const rounds: { downMs: number; startMs: number; backMs: number }[] = [];
    const probe = localPorts[0] ?? 0;
    for (let round = 0; round < ROUNDS; round++) {
      const down = performance.now();
      await daemon.stop();
      const startMs = await daemon.start();
      const ready = performance.now();
      // Fresh connections each try: the forward is back when a request makes it to the workspace.
      await until('the forward to serve again', () => page(probe), 90_000, 10);
      const back = performance.now();
      rounds.push({ downMs: back - down, startMs, backMs: back - ready });
      await sleep(1000);
    }
    const result = {
      workspaces: WORKSPACES + 1,
      forwards: FORWARDS,
      baseline,
      loaded,
      trayMs,
      rounds,
    };
    await main.close();
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await killServer().catch(() => {});
    await stopWorkspace().catch((error) => log(`could not stop the workspace: ${(error as Error).message}`));
    await daemon.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    log(`bench:desktop failed: ${(error as Error).stack ?? error}`);
    process.exit(1);
  },
);
