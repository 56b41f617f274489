import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  describeIssues,
  type TerminalAttachInput,
  type TerminalAttachRequest,
  terminalAttachSchema,
  terminalSizeSchema,
  WarrenError,
} from '@warren/core';
import { isExecutableFile } from '@warren/core/node';
import type { PtySpawnOptions } from './Pty';
import type { PtyAddon } from './PtyAddon';
import { ReconnectingPty, type TerminalAttachment, type TerminalSink } from './ReconnectingPty';

export interface TerminalSessionsOptions {
  /** The PTY addon, loaded on first use (PtyAddonSource.load). */
  addon: () => Promise<PtyAddon>;
  /** Where a terminal starts when the client names no folder. */
  defaultCwd: string;
  /** The environment terminals inherit (the agent's, already without its token). */
  env?: NodeJS.ProcessEnv;
  /** The shell to run; default: the user's login shell. */
  shell?: string;
  maxSessions?: number;
  idleTimeoutMs?: number;
  scrollbackBytes?: number;
  killGraceMs?: number;
  /** Input from a client: the workspace is in use (autostop counts it as activity). */
  onActivity?: () => void;
}

type Limits = Required<
  Pick<TerminalSessionsOptions, 'maxSessions' | 'idleTimeoutMs' | 'scrollbackBytes' | 'killGraceMs'>
>;

export const terminalDefaults: Readonly<Limits> = {
  maxSessions: 32,
  idleTimeoutMs: 60 * 60 * 1000,
  scrollbackBytes: 64 * 1024,
  killGraceMs: 5000,
};

export interface TerminalSessionInfo {
  id: string;
  pid: number;
  clients: number;
  exited: boolean;
  createdAt: number;
}

/**
 * The workspace's reconnecting terminals, keyed by ids the clients choose: attaching to an id
 * that runs reattaches, any other id starts a new process (up to a cap). This is the surface
 * the agent's transports call: a WebSocket carrying terminal frames, or an SSH pty channel.
 */
export class TerminalSessions {
  readonly #sessions = new Map<string, ReconnectingPty>();
  readonly #options: TerminalSessionsOptions & Limits;

  constructor(options: TerminalSessionsOptions) {
    this.#options = { ...terminalDefaults, ...stripUndefined(options) };
  }

  /**
   * Creates or reattaches terminal `id` and connects `sink` to it: the sink first gets the
   * scrollback, then live output. Fails with a WarrenError whose message a user can read when
   * the input is invalid, the cap is reached, or terminals are unavailable on this workspace.
   */
  async attach(
    id: string,
    opts: Omit<TerminalAttachInput, 'id'>,
    sink: TerminalSink,
  ): Promise<TerminalAttachment> {
    const parsed = terminalAttachSchema.safeParse({ ...opts, id });
    if (!parsed.success) throw new WarrenError('INVALID_INPUT', describeIssues(parsed.error.issues));
    const request = parsed.data;
    // Load before looking the id up: the await would otherwise let two callers both create it.
    const addon = await this.#options.addon();
    const session = this.#sessions.get(request.id) ?? this.#start(addon, request);
    const attachment = session.attach(sink);
    // A client coming back from another window brings its size.
    if (!session.exited) attachment.resize(request.cols, request.rows);
    return withCheckedResize(attachment);
  }

  list(): TerminalSessionInfo[] {
    return [...this.#sessions.values()].map((s) => ({
      id: s.id,
      pid: s.pid,
      clients: s.clients,
      exited: s.exited,
      createdAt: s.createdAt,
    }));
  }

  /**
   * Ends terminal `id` now (SIGHUP, then SIGKILL); attached clients get the exit. For transports
   * whose terminals should not outlive the connection, such as an SSH session's pty.
   */
  close(id: string): boolean {
    const session = this.#sessions.get(id);
    session?.kill();
    return session !== undefined;
  }

  /** Ends every terminal, e.g. when the agent shuts down. */
  closeAll(): void {
    for (const session of [...this.#sessions.values()]) session.kill();
  }

  #start(addon: PtyAddon, request: TerminalAttachRequest): ReconnectingPty {
    const o = this.#options;
    if (this.#sessions.size >= o.maxSessions) {
      throw new WarrenError(
        'TOO_MANY_REQUESTS',
        `This workspace already runs ${o.maxSessions} terminals, the most it allows; close one before opening another.`,
      );
    }
    // A relative folder is taken from where terminals start by default (the workspace folder).
    const cwd = path.resolve(o.defaultCwd, request.cwd ?? '.');
    if (!isDirectory(cwd))
      throw new WarrenError('INVALID_INPUT', `The terminal cannot start in ${cwd}: it is not a folder.`);
    const shell = o.shell ?? loginShell(o.env ?? process.env);
    const spawn: PtySpawnOptions = {
      file: shell,
      args: request.command ? ['-c', request.command] : ['-l'],
      env: terminalEnv(o.env ?? process.env, cwd, request.env),
      cwd,
      cols: request.cols,
      rows: request.rows,
    };
    let session: ReconnectingPty;
    try {
      session = new ReconnectingPty(addon, spawn, {
        id: request.id,
        scrollbackBytes: o.scrollbackBytes,
        idleTimeoutMs: o.idleTimeoutMs,
        killGraceMs: o.killGraceMs,
        onInput: o.onActivity,
        onClose: (closed) => {
          if (this.#sessions.get(closed.id) === closed) this.#sessions.delete(closed.id);
        },
      });
    } catch (error) {
      // forkpty failed (out of ptys or processes): a sentence, not a bare native error.
      const reason = error instanceof Error ? error.message : String(error);
      throw new WarrenError('UNAVAILABLE', `The terminal could not be started: ${reason}`);
    }
    this.#sessions.set(request.id, session);
    return session;
  }
}

/** Resize input from a client is checked here, so transports can pass numbers straight through. */
function withCheckedResize(attachment: TerminalAttachment): TerminalAttachment {
  return {
    write: (data) => attachment.write(data),
    pause: () => attachment.pause(),
    resume: () => attachment.resume(),
    detach: () => attachment.detach(),
    resize: (cols, rows) => {
      const size = terminalSizeSchema.safeParse({ cols, rows });
      if (!size.success) throw new WarrenError('INVALID_INPUT', describeIssues(size.error.issues));
      attachment.resize(size.data.cols, size.data.rows);
    },
  };
}

/** The user's login shell from the password database, else $SHELL, else /bin/sh. */
export function loginShell(env: NodeJS.ProcessEnv = process.env): string {
  let fromPasswd: string | null | undefined;
  try {
    fromPasswd = os.userInfo().shell;
  } catch {
    // A container user with no passwd entry.
  }
  for (const candidate of [fromPasswd, env.SHELL, '/bin/sh']) {
    if (candidate && isExecutableFile(candidate)) return candidate;
  }
  throw new WarrenError(
    'UNAVAILABLE',
    'Terminals are unavailable: this workspace has no shell (not even /bin/sh).',
  );
}

function terminalEnv(
  base: NodeJS.ProcessEnv,
  cwd: string,
  extra: Record<string, string> | undefined,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value;
  // Never hand the agent's credential to a shell, even if a caller left it in the environment.
  delete env.WARREN_AGENT_TOKEN;
  env.TERM = 'xterm-256color';
  env.PWD = cwd;
  return { ...env, ...extra };
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
