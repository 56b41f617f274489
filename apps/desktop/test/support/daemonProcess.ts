import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Secret } from '@warren/core';
import { connectWorkspaceSsh } from '@warren/core/node';
import { freePort } from '@warren/core/test-support/freePort';
import { waitFor as waitUntil } from '@warren/core/test-support/waitFor';
import { killWorkspaceProcesses } from '@warren/core/test-support/workspaceProcesses';
import { createDaemonClient, type DaemonClient } from '../../src/main/api/daemonClient';

/** The tests here take a free port from this module, as they do the daemon. */
export { freePort };

export const REPO = path.resolve(import.meta.dirname, '..', '..', '..', '..');
export const DAEMON_BIN = path.join(REPO, 'apps', 'daemon', 'dist', 'warren.mjs');
export const AGENT_BIN = path.join(REPO, 'apps', 'agent', 'dist', 'warren-agent.mjs');
export const LOG_DIR = path.resolve(import.meta.dirname, '..', '..', 'test-results', 'logs');

/** Both bundles the desktop tests run as real processes: built once when a plain vitest run lacks them. */
export function ensureBuilt(): void {
  for (const [bundle, dir] of [
    [DAEMON_BIN, 'daemon'],
    [AGENT_BIN, 'agent'],
  ] as const) {
    if (!fs.existsSync(bundle))
      execFileSync(process.execPath, ['build.mjs'], { cwd: path.join(REPO, 'apps', dir) });
  }
}

export interface DaemonProcessOptions {
  /** The address it listens on and agents reach it at; default 127.0.0.1. */
  host?: string;
  /** More environment for the server (WARREN_WIREGUARD, WARREN_AGENT_BINARY, …). */
  env?: Record<string, string>;
}

/**
 * The built daemon (`warren server`) as a child process on a fixed port and data dir, so a test
 * can stop it and start it again where clients expect it. The desktop takes nothing from the
 * daemon but its HTTP API.
 */
export class DaemonProcess {
  child: ChildProcess | undefined;
  readonly url: string;

  private constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly options: DaemonProcessOptions,
  ) {
    this.url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  }

  static async start(options: DaemonProcessOptions = {}): Promise<DaemonProcess> {
    ensureBuilt();
    const daemon = new DaemonProcess(
      await freePort(),
      fs.mkdtempSync(path.join(os.tmpdir(), 'warren-desktop-')),
      options,
    );
    await daemon.restart();
    return daemon;
  }

  client(token?: string): DaemonClient {
    return createDaemonClient({ url: this.url, token: new Secret(token ?? '') });
  }

  /** Starts the server process (again) and resolves once it serves. */
  async restart(): Promise<void> {
    fs.mkdirSync(LOG_DIR, { recursive: true });
    const log = fs.createWriteStream(path.join(LOG_DIR, `daemon-${path.basename(this.dataDir)}.log`), {
      flags: 'a',
    });
    const child = spawn(
      process.execPath,
      [
        DAEMON_BIN,
        'server',
        '--listen',
        new URL(this.url).host,
        // Agents in a network namespace of their own reach the server at the address it listens on.
        ...(this.options.host ? ['--access-url', this.url] : []),
        '--data-dir',
        this.dataDir,
      ],
      {
        env: {
          ...process.env,
          WARREN_LOG_FORMAT: 'json',
          WARREN_AGENT_BINARY: AGENT_BIN,
          ...this.options.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk) => {
        out += chunk;
        if (/Warren is running at/.test(out)) resolve();
      });
      child.once('exit', (code) =>
        reject(new Error(`warren server exited with ${code} before it was ready`)),
      );
    });
  }

  /** Stops the server process (SIGTERM, as a service manager would) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** The first user and an API token for it (what a person pastes into the desktop). */
  async owner(): Promise<{ username: string; token: string }> {
    const password = `pw-${randomBytes(8).toString('hex')}`;
    await this.client().setup.createFirstUser.mutate({
      username: 'owner',
      email: 'owner@example.com',
      password,
    });
    const { token: session } = await this.client().auth.login.mutate({
      login: 'owner',
      password,
      sessionIn: 'body',
    });
    const created = await this.client(session ?? '').tokens.create.mutate({ name: 'desktop' });
    return { username: 'owner', token: created.token };
  }

  async close(): Promise<void> {
    await this.stop();
    killWorkspaceProcesses(this.dataDir);
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Polls until `check` returns a value, or fails naming what it waited for. */
export function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  return waitUntil(what, check, timeoutMs);
}

/** Waits until the workspace is running with its agent ready (or fails fast on a failed build). */
export function untilRunning(client: DaemonClient, name: string, timeoutMs = 90_000) {
  return waitFor(
    `workspace ${name} to be running`,
    async () => {
      const ws = await client.workspaces.get.query({ name });
      if (ws.status === 'failed') throw new Error(`build failed: ${ws.latestBuild.error}`);
      return ws.status === 'running' && ws.agent?.lifecycle === 'ready' ? ws : undefined;
    },
    timeoutMs,
  );
}

/** Runs a shell command in the workspace over SSH (the test's own hands) and resolves with its output. */
export async function inWorkspace(
  daemon: { url: string },
  token: string,
  workspace: string,
  command: string,
): Promise<string> {
  const ssh = await connectWorkspaceSsh({ url: daemon.url, token: new Secret(token) }, workspace);
  try {
    return await new Promise<string>((resolve, reject) =>
      ssh.client.exec(command, (error, channel) => {
        if (error) return reject(error);
        let out = '';
        channel.on('data', (chunk: Buffer) => {
          out += chunk;
        });
        channel.stderr.on('data', (chunk: Buffer) => {
          out += chunk;
        });
        channel.on('close', () => resolve(out));
      }),
    );
  } finally {
    ssh.close();
  }
}
