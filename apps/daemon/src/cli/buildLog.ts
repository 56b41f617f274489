import { setTimeout as sleep } from 'node:timers/promises';
import { WarrenError } from '@warren/core';
import type { AgentLogEvent, BuildLogEvent } from './apiTypes';
import type { CliSession } from './CliSession';
import { subscribe } from './sse';

type LogLine = Exclude<BuildLogEvent, { end: true }>;

export interface BuildEnd {
  status: string;
  error: string | null;
}

export interface BuildLogRequest {
  ref: { owner?: string | undefined; name: string };
  build: number;
  /** Where log lines go: stdout, or stderr when stdout carries JSON. */
  out: NodeJS.WritableStream;
  /**
   * Stop once the lines so far are printed instead of following the build to its end. The
   * stream has no marker between the stored lines and live ones, so "so far" is: until it has
   * been quiet for a moment.
   */
  untilQuiet?: boolean;
  /** After a delete the workspace is gone, so "not found" means the build succeeded. */
  goneMeansDone?: boolean;
}

const QUIET_MS = 500;
/** The first line may take longer: the request has to be answered first. */
const FIRST_LINE_MS = 2000;
/** Reconnects in a row without a new line before following gives up. */
const MAX_RECONNECTS = 5;

/**
 * Prints a build's log. Returns how the build ended, or undefined when `untilQuiet` stopped
 * first. A dropped connection resumes after the last line printed, so no line shows twice.
 */
export async function printBuildLog(
  session: CliSession,
  request: BuildLogRequest,
): Promise<BuildEnd | undefined> {
  let afterSeq = 0;
  let failures = 0;
  for (;;) {
    const quiet = request.untilQuiet ? new QuietTimer(FIRST_LINE_MS, QUIET_MS) : undefined;
    try {
      const input = { ...request.ref, build: request.build, afterSeq };
      for await (const event of subscribe(session, 'workspaces.logs', input, quiet?.signal)) {
        quiet?.reset();
        const item = event as BuildLogEvent;
        if ('end' in item) return { status: item.status, error: item.error };
        afterSeq = item.seq;
        failures = 0;
        request.out.write(`${formatLogLine(item)}\n`);
      }
    } catch (error) {
      if (quiet?.signal.aborted) return undefined;
      const code = error instanceof WarrenError ? error.code : undefined;
      if (code === 'NOT_FOUND' && request.goneMeansDone) return { status: 'succeeded', error: null };
      if (code !== 'UNAVAILABLE' || ++failures > MAX_RECONNECTS) throw error;
      await sleep(1000);
    } finally {
      quiet?.clear();
    }
  }
}

/** A build that did not succeed fails the command that followed it, saying why. */
export function buildFailure(what: string, end: BuildEnd): WarrenError {
  const why = end.status === 'canceled' ? 'was canceled' : `failed: ${end.error ?? 'no reason given'}`;
  return new WarrenError('UPSTREAM', `${what} ${why}`);
}

/** `15:44:20 Build start succeeded.`; warnings and errors say so. */
export function formatLogLine(line: LogLine): string {
  const time = new Date(line.time).toISOString().slice(11, 19);
  const level = line.level === 'info' ? '' : `${line.level.toUpperCase()} `;
  return `${time} ${level}${line.line.replace(/\p{Cc}/gu, (c) => (c === '\t' ? c : '?'))}`;
}

/** Aborts its signal once `first`, then after each reset `ms`, pass without a reset. */
class QuietTimer {
  readonly #controller = new AbortController();
  #timer: NodeJS.Timeout;

  constructor(
    first: number,
    private readonly ms: number,
  ) {
    this.#timer = setTimeout(() => this.#controller.abort(), first);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  reset(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#controller.abort(), this.ms);
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}

/**
 * Prints the workspace agent's log (startup and shutdown script output); with `follow`, keeps
 * printing new lines until interrupted, else stops once it has been quiet for a moment.
 */
export async function printAgentLog(
  session: CliSession,
  request: { ref: { owner?: string | undefined; name: string }; out: NodeJS.WritableStream; follow: boolean },
): Promise<void> {
  let afterSeq = 0;
  let failures = 0;
  for (;;) {
    const quiet = request.follow ? undefined : new QuietTimer(FIRST_LINE_MS, QUIET_MS);
    try {
      for await (const event of subscribe(
        session,
        'workspaces.agentLogs',
        { ...request.ref, afterSeq },
        quiet?.signal,
      )) {
        quiet?.reset();
        const entry = event as AgentLogEvent;
        afterSeq = entry.seq;
        failures = 0;
        const time = new Date(entry.time).toISOString().slice(11, 19);
        request.out.write(
          `${time} [${entry.source}] ${entry.line.replace(/\p{Cc}/gu, (c) => (c === '\t' ? c : '?'))}\n`,
        );
      }
      return;
    } catch (error) {
      if (quiet?.signal.aborted) return;
      const code = error instanceof WarrenError ? error.code : undefined;
      if (code !== 'UNAVAILABLE' || ++failures > MAX_RECONNECTS) throw error;
      await sleep(1000);
    } finally {
      quiet?.clear();
    }
  }
}
