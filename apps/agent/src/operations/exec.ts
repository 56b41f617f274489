import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { type AgentOperationResult, type ParsedAgentOperationParams, WarrenError } from '@warren/core';
import { fitOutputs, OutputCapture } from './OutputCapture';
import { type OperationContext, resolvePath } from './paths';

export interface ExecStreamHandlers {
  /** Output as it arrives, decoded as UTF-8 (a character split across reads is held back). */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /** Between SIGTERM and SIGKILL; 2 s unless a test wants it shorter. */
  killGraceMs?: number;
}

type ExecResult = AgentOperationResult<'exec'>;

/** After the shell exits, how long to wait for output still in the pipes. */
const OUTPUT_GRACE_MS = 250;
const DEFAULT_KILL_GRACE_MS = 2000;
/** Room in the output budget for the marker lines and the other fields. */
const RESULT_FIELDS_BYTES = 512;

export function exec(
  params: ParsedAgentOperationParams<'exec'>,
  context: OperationContext,
): Promise<ExecResult> {
  return execStreaming(params, context, {});
}

/**
 * Runs `/bin/sh -c command` in its own process group and resolves when the shell exits, with
 * head and tail of its output. A timeout (or the caller's abort) kills the whole group: SIGTERM,
 * then SIGKILL for whatever is still alive after the grace period; the result comes back only
 * after that, so nothing the command started is still running. A command that leaves a
 * background job behind on success (`server &`) keeps it running.
 */
export async function execStreaming(
  params: ParsedAgentOperationParams<'exec'>,
  context: OperationContext,
  handlers: ExecStreamHandlers,
): Promise<ExecResult> {
  const cwd = resolvePath(context.root, params.cwd ?? '.');
  await assertDirectory(cwd);
  const started = performance.now();
  const child = spawn('/bin/sh', ['-c', params.command], {
    cwd,
    env: { ...process.env, ...params.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = new OutputCapture(params.maxOutputBytes);
  const stderr = new OutputCapture(params.maxOutputBytes);
  const drained = Promise.all([
    collect(child.stdout, stdout, handlers.onStdout),
    collect(child.stderr, stderr, handlers.onStderr),
  ]);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', (error) =>
      reject(new WarrenError('INTERNAL', `Could not start /bin/sh: ${error.message}.`, { cause: error })),
    );
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  let timedOut = false;
  let killing: Promise<void> | undefined;
  const killTree = () => {
    killing ??= killProcessGroup(child, exited, handlers.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killTree();
  }, params.timeoutMs);
  context.signal?.addEventListener('abort', killTree, { once: true });
  if (context.signal?.aborted) killTree();

  const stopWatching = () => {
    clearTimeout(timer);
    context.signal?.removeEventListener('abort', killTree);
  };
  try {
    const { code, signal } = await exited;
    // From here on the command is finished: a late timer must not kill its background jobs.
    stopWatching();
    await killing;
    // A background job may hold the pipes open for hours: wait for output already written, not
    // for the pipes to close.
    await Promise.race([drained, delay(OUTPUT_GRACE_MS)]);
    const outputs = fitOutputs(
      [stdout.snapshot(), stderr.snapshot()],
      params.maxOutputBytes - RESULT_FIELDS_BYTES,
    );
    return {
      exitCode: code,
      signal,
      timedOut,
      stdout: outputs.texts[0] ?? '',
      stderr: outputs.texts[1] ?? '',
      truncated: outputs.truncated,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    stopWatching();
    discardRest(child);
  }
}

async function assertDirectory(cwd: string): Promise<void> {
  const stat = await fs.stat(cwd).catch(() => undefined);
  if (!stat) throw new WarrenError('NOT_FOUND', `The working directory ${cwd} does not exist.`);
  if (!stat.isDirectory())
    throw new WarrenError('INVALID_INPUT', `The working directory ${cwd} is not a directory.`);
}

function collect(
  stream: Readable | null,
  capture: OutputCapture,
  onText?: (chunk: string) => void,
): Promise<void> {
  if (!stream) return Promise.resolve();
  const decoder = onText ? new StringDecoder('utf8') : undefined;
  stream.on('data', (chunk: Buffer) => {
    capture.push(chunk);
    const text = decoder?.write(chunk);
    if (text) onText?.(text);
  });
  return new Promise((resolve) => {
    stream.once('close', () => {
      const rest = decoder?.end();
      if (rest) onText?.(rest);
      resolve();
    });
  });
}

/** SIGTERM to the group, SIGKILL to whatever is left once the shell is gone or the grace is up. */
async function killProcessGroup(
  child: ChildProcess,
  exited: Promise<unknown>,
  graceMs: number,
): Promise<void> {
  const pgid = child.pid;
  if (pgid === undefined) return;
  if (!signalGroup(pgid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  await exited.catch(() => undefined);
  while ((await groupAlive(pgid)) && Date.now() < deadline) await delay(25);
  if (!signalGroup(pgid, 'SIGKILL')) return;
  // SIGKILL is delivered, not instant: the result says the tree is gone only once it is.
  const killDeadline = Date.now() + 2000;
  while ((await groupAlive(pgid)) && Date.now() < killDeadline) await delay(10);
}

/** False when no process of the group is left. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a process of the group still runs. Zombies do not count: where PID 1 does not reap
 * orphans (some containers), a killed grandchild stays a zombie and kill(-pgid, 0) still succeeds.
 */
async function groupAlive(pgid: number): Promise<boolean> {
  if (!signalGroup(pgid, 0)) return false;
  const pids = await fs.readdir('/proc').catch(() => undefined);
  if (!pids) return true;
  for (const pid of pids) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // Fields after "(comm)": state, ppid, pgrp.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') return true;
  }
  return false;
}

/**
 * Our result is made; keep reading (and dropping) what a background job still writes, so that
 * it does not die of SIGPIPE or block on a full pipe.
 */
function discardRest(child: ChildProcess): void {
  for (const stream of [child.stdout, child.stderr]) {
    stream?.removeAllListeners('data');
    stream?.resume();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
