import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LocalResources, WarrenError } from '@warren/core';
import { isExecutableFile, streamingMallocEnv } from '@warren/core/node';
import { z } from 'zod';
import type { BuildLog, LocalProvisionRequest, Provisioner, ProvisionerState } from '../Provisioner';

export interface LocalProvisionerOptions {
  dataDir: string;
  /** The built agent bundle: one .mjs file, run with the daemon's own Node. */
  agentBinaryPath: string;
  /** bubblewrap's `bwrap`; by default looked up on PATH at each start. */
  bwrapPath?: string;
  /** How long stop waits after SIGTERM before SIGKILL. */
  stopGraceMs?: number;
}

/** What a running local workspace leaves in its build's state. */
export interface LocalAgentState {
  pid: number;
  pgid: number;
  startedAt: string;
  home: string;
  sandboxed: boolean;
  /** Digest of everything the agent was started with (token included), to tell a retry from a change. */
  specHash: string;
}

export const NO_BWRAP_WARNING = 'bubblewrap is not installed; running without a sandbox';

const previousStateSchema = z.object({
  pid: z.number().int().positive(),
  pgid: z.number().int().positive(),
  specHash: z.string().optional(),
  startedAt: z.string().optional(),
});
type KnownAgent = z.infer<typeof previousStateSchema>;

// Workspace ids become path segments under the data directory.
const workspaceIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
// A process that dies this soon after spawn (bwrap refusing a namespace, a broken bundle) fails the build.
const EARLY_EXIT_MS = 300;
const KILL_WAIT_MS = 2_000;

/**
 * The embedded provisioner: a directory under the data directory and an agent process on the
 * daemon's host, optionally inside bubblewrap. The agent runs detached in its own process
 * group, so it outlives a daemon restart and stop can signal everything it started.
 */
export class LocalProvisioner implements Provisioner<LocalResources> {
  readonly type = 'local' as const;
  readonly #dataDir: string;
  readonly #agentBinaryPath: string;
  readonly #bwrapPath: string | undefined;
  readonly #stopGraceMs: number;

  constructor(options: LocalProvisionerOptions) {
    this.#dataDir = path.resolve(options.dataDir);
    this.#agentBinaryPath = path.resolve(options.agentBinaryPath);
    this.#bwrapPath = options.bwrapPath;
    this.#stopGraceMs = options.stopGraceMs ?? 10_000;
  }

  async apply(request: LocalProvisionRequest, log: BuildLog, signal: AbortSignal): Promise<ProvisionerState> {
    signal.throwIfAborted();
    const dirs = this.#workspaceDirs(request.workspace.id);
    switch (request.transition) {
      case 'start':
        return { ...(await this.#start(request, dirs, log, signal)) };
      case 'stop':
        await this.#stop(request, dirs, log);
        return { home: dirs.home, pid: null, pgid: null };
      case 'delete':
        await this.#delete(request, dirs, log);
        return {};
    }
  }

  async #start(
    request: LocalProvisionRequest,
    dirs: WorkspaceDirs,
    log: BuildLog,
    signal: AbortSignal,
  ): Promise<LocalAgentState> {
    const workdir = resolveWorkdir(dirs.home, request.resources.workdir);
    fs.mkdirSync(dirs.root, { recursive: true, mode: 0o700 });
    fs.mkdirSync(workdir, { recursive: true, mode: 0o700 });
    log(`Workspace home: ${dirs.home}`);

    const bwrap = request.resources.sandbox ? this.#findBwrap() : undefined;
    if (request.resources.sandbox && !bwrap) log(NO_BWRAP_WARNING, 'warn');
    const specHash = this.#specHash(request, bwrap !== undefined);

    const running = this.#knownAgents(request, dirs);
    const reusable = running.find(
      (agent) => agent.specHash === specHash && this.#isAgent(agent.pid, dirs.home),
    );
    for (const agent of running) {
      if (agent === reusable) continue;
      if (this.#isAgent(agent.pid, dirs.home))
        log(`Restarting the agent (pid ${agent.pid}): its token or settings changed.`);
      await this.#terminateGroup(agent.pgid, dirs.home, log);
    }
    if (reusable) {
      log(`The agent is already running (pid ${reusable.pid}); keeping it.`);
      fs.writeFileSync(dirs.pidFile, `${reusable.pid}\n`);
      const startedAt = reusable.startedAt ?? new Date().toISOString();
      return {
        pid: reusable.pid,
        pgid: reusable.pgid,
        startedAt,
        home: dirs.home,
        sandboxed: bwrap !== undefined,
        specHash,
      };
    }

    signal.throwIfAborted();
    const node = nodePath();
    const [command, args] = bwrap
      ? [
          bwrap,
          [
            ...bubblewrapArgs({ home: dirs.home, workdir, nodePath: node, agentPath: this.#agentBinaryPath }),
            '--',
            node,
            this.#agentBinaryPath,
          ],
        ]
      : [node, [this.#agentBinaryPath]];
    const env = agentEnvironment(request, dirs.home, workdir);
    const child = await spawnDetached(command, args, {
      env,
      cwd: workdir,
      logFile: dirs.logFile,
      buildId: request.buildId,
    });
    fs.writeFileSync(dirs.pidFile, `${child.pid}\n`);
    const startedAt = new Date().toISOString();
    await failOnEarlyExit(child, dirs.logFile);
    log(
      `Started the agent (pid ${child.pid}) ${bwrap ? 'inside bubblewrap' : 'without a sandbox'}; its output goes to ${dirs.logFile}.`,
    );
    return {
      pid: child.pid,
      pgid: child.pid,
      startedAt,
      home: dirs.home,
      sandboxed: bwrap !== undefined,
      specHash,
    };
  }

  async #stop(request: LocalProvisionRequest, dirs: WorkspaceDirs, log: BuildLog): Promise<void> {
    let stopped = false;
    for (const agent of this.#knownAgents(request, dirs)) {
      if (this.#ownsGroup(agent.pgid, dirs.home) && groupAlive(agent.pgid)) {
        await this.#terminateGroup(agent.pgid, dirs.home, log);
        stopped = true;
      }
    }
    fs.rmSync(dirs.pidFile, { force: true });
    log(stopped ? 'The agent is stopped; the home directory is kept.' : 'No agent was running.');
  }

  async #delete(request: LocalProvisionRequest, dirs: WorkspaceDirs, log: BuildLog): Promise<void> {
    const orphanable = async (what: string, step: () => Promise<void> | void) => {
      try {
        await step();
      } catch (error) {
        if (!request.orphan) throw error;
        log(`Could not ${what}; forgetting it as asked: ${errorMessage(error)}`, 'warn');
      }
    };
    await orphanable('stop the agent', () => this.#stop(request, dirs, log));
    await orphanable(`remove ${dirs.root}`, () => {
      try {
        fs.rmSync(dirs.root, { recursive: true, force: true, maxRetries: 3 });
      } catch (error) {
        throw new WarrenError(
          'INTERNAL',
          `Could not remove the workspace directory ${dirs.root}: ${errorMessage(error)}`,
          {
            cause: error,
          },
        );
      }
      log(`Removed ${dirs.root}.`);
    });
  }

  /** SIGTERM the group, wait for it to empty, then SIGKILL what is left. */
  async #terminateGroup(pgid: number, home: string, log: BuildLog): Promise<void> {
    if (!this.#ownsGroup(pgid, home) || !signalGroup(pgid, 'SIGTERM')) return;
    log(`Stopping the agent's process group ${pgid}.`);
    if (await waitForGroupExit(pgid, this.#stopGraceMs)) return;
    log(`The agent did not exit within ${this.#stopGraceMs / 1000} s; killing it.`, 'warn');
    signalGroup(pgid, 'SIGKILL');
    if (!(await waitForGroupExit(pgid, KILL_WAIT_MS))) {
      throw new WarrenError('INTERNAL', `The agent's process group ${pgid} is still running after SIGKILL.`);
    }
  }

  /**
   * Agents that may be running: the one in the previous build's state, and the one in the pid
   * file, which is written at spawn and so also knows a start that crashed before saving state.
   */
  #knownAgents(request: LocalProvisionRequest, dirs: WorkspaceDirs): KnownAgent[] {
    const fromState = previousStateSchema.safeParse(request.previousState);
    const agents: KnownAgent[] = fromState.success ? [fromState.data] : [];
    const filePid = readPidFile(dirs.pidFile);
    if (filePid !== undefined && !agents.some((a) => a.pid === filePid))
      agents.push({ pid: filePid, pgid: filePid });
    return agents;
  }

  /**
   * Is this pid this workspace's agent (directly, or bwrap running it)? Guards against a
   * recycled pid, which may even be another workspace's agent.
   */
  #isAgent(pid: number, home: string): boolean {
    const args = commandLine(pid);
    return args !== undefined && runsAgent(args, this.#agentBinaryPath) && hasHome(pid, home);
  }

  /**
   * A group is ours if its leader still runs our agent, or the leader is gone: a pid stays
   * allocated while its number is some group's id, so a leaderless group is one we started.
   */
  #ownsGroup(pgid: number, home: string): boolean {
    const args = commandLine(pgid);
    return args === undefined || args.length === 0 || this.#isAgent(pgid, home);
  }

  #findBwrap(): string | undefined {
    if (this.#bwrapPath !== undefined) return isExecutableFile(this.#bwrapPath) ? this.#bwrapPath : undefined;
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
      if (dir && isExecutableFile(path.join(dir, 'bwrap'))) return path.join(dir, 'bwrap');
    }
    return undefined;
  }

  #specHash(request: LocalProvisionRequest, sandboxed: boolean): string {
    const { workdir, env } = request.resources;
    const spec = {
      workdir,
      env: Object.entries(env).sort(([a], [b]) => a.localeCompare(b)),
      sandboxed,
      daemonUrl: request.agent.daemonUrl,
      token: request.agent.token.reveal(),
      agent: this.#agentBinaryPath,
    };
    return createHash('sha256').update(JSON.stringify(spec)).digest('hex');
  }

  #workspaceDirs(workspaceId: string): WorkspaceDirs {
    if (!workspaceIdPattern.test(workspaceId)) {
      throw new WarrenError(
        'INVALID_INPUT',
        `"${workspaceId}" cannot be used as a workspace directory name.`,
      );
    }
    const root = path.join(this.#dataDir, 'workspaces', workspaceId);
    return {
      root,
      home: path.join(root, 'home'),
      logFile: path.join(root, 'agent.log'),
      pidFile: path.join(root, 'agent.pid'),
    };
  }
}

interface WorkspaceDirs {
  root: string;
  home: string;
  logFile: string;
  pidFile: string;
}

function resolveWorkdir(home: string, workdir: string): string {
  const resolved = path.resolve(home, workdir);
  if (resolved !== home && !resolved.startsWith(home + path.sep)) {
    throw new WarrenError(
      'INVALID_INPUT',
      `The working directory "${workdir}" must be inside the workspace's home.`,
    );
  }
  return resolved;
}

/** Only what the agent needs: the daemon's own environment may hold its secrets. */
function agentEnvironment(request: LocalProvisionRequest, home: string, workdir: string): NodeJS.ProcessEnv {
  const user = os.userInfo();
  return {
    PATH: process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    USER: user.username,
    LOGNAME: user.username,
    SHELL: user.shell ?? '/bin/sh',
    LANG: process.env.LANG || 'C.UTF-8',
    ...request.resources.env,
    ...streamingMallocEnv(request.resources.env),
    HOME: home,
    WARREN_AGENT_URL: request.agent.daemonUrl,
    WARREN_AGENT_TOKEN: request.agent.token.reveal(),
    WARREN_AGENT_DIR: workdir,
  };
}

/**
 * bubblewrap arguments: the system read-only, the workspace home read-write at its own path,
 * nothing else of the host's files (other workspaces, the data directory, the daemon user's
 * home). Deliberately without --die-with-parent (the agent outlives a daemon restart) and
 * without --new-session: the sandbox has no terminal to inject into, and staying in the
 * spawned process group is what lets stop signal the agent inside.
 */
export function bubblewrapArgs(input: {
  home: string;
  workdir: string;
  nodePath: string;
  agentPath: string;
}): string[] {
  const args = ['--unshare-all', '--share-net', '--ro-bind', '/usr', '/usr'];
  for (const dir of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    const stat = fs.lstatSync(dir, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink()) args.push('--symlink', fs.readlinkSync(dir), dir);
    else if (stat?.isDirectory()) args.push('--ro-bind', dir, dir);
  }
  args.push('--ro-bind', '/etc', '/etc', ...maskedEtcSecrets(), ...resolvConfTarget());
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  for (const file of [input.nodePath, input.agentPath]) {
    if (!file.startsWith('/usr/')) args.push('--ro-bind', file, file);
  }
  args.push('--bind', input.home, input.home, '--chdir', input.workdir);
  return args;
}

/** Files under /etc that the daemon's user can read and the workspace must not. */
function maskedEtcSecrets(): string[] {
  const sshKeys = (fs.existsSync('/etc/ssh') ? fs.readdirSync('/etc/ssh') : [])
    .filter((name) => /^ssh_host_.*_key$/.test(name))
    .map((name) => `/etc/ssh/${name}`);
  const files = ['/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-', ...sshKeys].filter(
    isReadable,
  );
  const args = files.flatMap((file) => ['--ro-bind', '/dev/null', file]);
  if (isReadable('/etc/ssl/private')) args.push('--tmpfs', '/etc/ssl/private');
  return args;
}

/** systemd-resolved points /etc/resolv.conf into /run, which the sandbox does not have. */
function resolvConfTarget(): string[] {
  try {
    const target = fs.realpathSync('/etc/resolv.conf');
    return target.startsWith('/etc/') || target.startsWith('/usr/') ? [] : ['--ro-bind', target, target];
  } catch {
    return [];
  }
}

function nodePath(): string {
  return fs.realpathSync(process.execPath);
}

/** Spawns in a new session and process group (its id is the pid), output appended to `logFile`. */
async function spawnDetached(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; logFile: string; buildId: string },
): Promise<ChildProcess & { pid: number }> {
  const out = fs.openSync(options.logFile, 'a', 0o600);
  fs.writeSync(out, `--- ${new Date().toISOString()} starting the agent for build ${options.buildId}\n`);
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: options.env,
    cwd: options.cwd,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } catch (error) {
    throw new WarrenError('INTERNAL', `Could not start the agent with ${command}: ${errorMessage(error)}`, {
      cause: error,
    });
  } finally {
    fs.closeSync(out);
  }
  // The daemon must be able to exit or restart while the agent runs on.
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new WarrenError('INTERNAL', 'The agent started without a process id.');
  return Object.assign(child, { pid });
}

/** An agent that dies at once (bwrap refused a namespace, a broken bundle) fails the build with its last words. */
async function failOnEarlyExit(child: ChildProcess, logFile: string): Promise<void> {
  const exit = await Promise.race([
    new Promise<string>((resolve) => child.once('exit', (code, sig) => resolve(sig ?? `exit code ${code}`))),
    sleep(EARLY_EXIT_MS, undefined, { ref: false }),
  ]);
  if (exit === undefined) return;
  if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
  const lines = fs.readFileSync(logFile, 'utf8').trimEnd().split('\n');
  const output = lines
    .slice(lines.findLastIndex((l) => l.startsWith('--- ')) + 1)
    .slice(-5)
    .join('\n');
  throw new WarrenError(
    'INTERNAL',
    `The agent exited right after starting (${exit})${output ? `: ${output}` : '.'}`,
  );
}

/** False when the group is already gone. */
function signalGroup(pgid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw new WarrenError(
      'INTERNAL',
      `Could not signal the agent's process group ${pgid}: ${errorMessage(error)}`,
      {
        cause: error,
      },
    );
  }
}

async function waitForGroupExit(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pgid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/** Does any live (not zombie) process belong to the group? Zombies wait on a parent that may never reap them. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  if (!fs.existsSync('/proc/self/stat')) return true;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') return true;
  }
  return false;
}

/** A process's state letter and process group from /proc, or undefined when it is gone. */
export function procStat(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses; fields resume after the last ')'.
    const [state = '', , pgrp = ''] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state, pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

/** The process's arguments, [] for a zombie, undefined when there is no such process. */
function commandLine(pid: number): string[] | undefined {
  if (fs.existsSync('/proc/self/cmdline')) {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      return undefined;
    }
  }
  // Without /proc (macOS): one string, so the agent's path is matched as a substring.
  try {
    const line = execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    return line ? [line] : [];
  } catch {
    return undefined;
  }
}

/** The agent's environment names its home; without /proc to read it, trust the command line. */
function hasHome(pid: number, home: string): boolean {
  if (!fs.existsSync('/proc/self/environ')) return true;
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`HOME=${home}`);
  } catch {
    return false;
  }
}

function runsAgent(args: string[], agentPath: string): boolean {
  return args.some((arg) => arg === agentPath || (arg.includes(' ') && arg.includes(agentPath)));
}

function readPidFile(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isReadable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
