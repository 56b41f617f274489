import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { MAX_LOG_LINE_CHARS } from '@warren/core';

export interface ScriptOptions {
  script: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Each line of stdout and stderr, without its line ending. */
  onLine: (line: string) => void;
  /** Aborting kills the script (the agent is shutting down). */
  signal?: AbortSignal;
  /** How long a killed script gets between SIGTERM and SIGKILL. */
  killGraceMs?: number;
}

export interface ScriptResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** Set when the shell could not be started at all. */
  error?: string;
}

/**
 * Runs `sh -c script` in its own process group, streaming its output line by line. It resolves
 * when the shell exits, not when its output closes: a startup script that starts a server in
 * the background (`code-server &`) is done, and the server's later output is still streamed.
 * A timeout or abort kills the whole group.
 */
export function runScript(options: ScriptOptions): Promise<ScriptResult> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', options.script], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let timedOut = false;
    let aborted = false;
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    const stop = () => {
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), options.killGraceMs ?? 3000).unref();
    };
    const timeout = setTimeout(() => {
      timedOut = true;
      stop();
    }, options.timeoutMs);
    const onAbort = () => {
      aborted = true;
      stop();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();

    const outputs = [child.stdout, child.stderr].filter((s): s is Readable => s !== null);
    const drained = Promise.all(outputs.map((s) => splitLines(s, options.onLine)));

    const finish = (result: ScriptResult) => {
      clearTimeout(timeout);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    child.once('error', (error) =>
      finish({ exitCode: null, signal: null, timedOut, aborted, error: error.message }),
    );
    child.once('exit', (exitCode, signal) => {
      // Output written just before exit is usually still in the pipe: wait for it, but not for
      // background processes that hold the pipe open.
      const grace = new Promise((r) => setTimeout(r, OUTPUT_GRACE_MS).unref());
      void Promise.race([drained, grace]).then(() => finish({ exitCode, signal, timedOut, aborted }));
    });
  });
}

const OUTPUT_GRACE_MS = 250;

/**
 * Calls `onLine` per line; a line longer than the protocol allows is cut into pieces. Resolves
 * when the stream ends.
 */
function splitLines(stream: Readable, onLine: (line: string) => void): Promise<void> {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const emit = (line: string) => onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  stream.on('data', (chunk: Buffer) => {
    partial += decoder.write(chunk);
    let newline = partial.indexOf('\n');
    while (newline !== -1) {
      emit(partial.slice(0, newline));
      partial = partial.slice(newline + 1);
      newline = partial.indexOf('\n');
    }
    while (partial.length > MAX_LOG_LINE_CHARS) {
      emit(partial.slice(0, MAX_LOG_LINE_CHARS));
      partial = partial.slice(MAX_LOG_LINE_CHARS);
    }
  });
  return new Promise((resolve) => {
    stream.on('close', resolve);
    stream.on('end', () => {
      partial += decoder.end();
      if (partial) emit(partial);
      partial = '';
      resolve();
    });
  });
}
