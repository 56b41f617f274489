import { Pty, type PtySpawnOptions } from './Pty';
import type { PtyAddon } from './PtyAddon';
import { Scrollback } from './Scrollback';

/** Where a terminal's output goes: one per attached client (a WebSocket, an SSH channel). */
export interface TerminalSink {
  data(chunk: Buffer): void;
  /** The process ended; `exitCode` is null when a signal ended it. Sent once per sink. */
  exit(exitCode: number | null, signal: string | null): void;
}

/** What an attached client may do. After `detach` (or exit) every call is ignored. */
export interface TerminalAttachment {
  write(data: Uint8Array): void;
  resize(cols: number, rows: number): void;
  /**
   * Backpressure: a transport whose buffer is full pauses, and resumes when it drains. While any
   * client is paused the process is held (its writes block); nothing is dropped or buffered here.
   */
  pause(): void;
  resume(): void;
  detach(): void;
}

export interface ReconnectingPtyOptions {
  id: string;
  scrollbackBytes: number;
  /** With no client attached for this long, the process is killed and the session dropped. */
  idleTimeoutMs: number;
  /** After SIGHUP, how long a process may take to exit before SIGKILL. */
  killGraceMs: number;
  /** Called once when the session is over and its id may be reused. */
  onClose(session: ReconnectingPty): void;
  /** A client typed something: counts as workspace activity. */
  onInput?(): void;
}

/** Sinks get at most this much per call, so each call fits one transport frame. */
export const TERMINAL_CHUNK_BYTES = 64 * 1024;

/**
 * A terminal session that outlives its clients. Output goes to every attached client and into a
 * bounded scrollback; attaching replays the scrollback and then goes live. Both happen in one
 * synchronous step, and output arrives only between steps (on the event loop), so no byte
 * falls into the seam or is sent twice.
 */
export class ReconnectingPty {
  readonly id: string;
  readonly createdAt = Date.now();
  readonly #pty: Pty;
  readonly #scrollback: Scrollback;
  readonly #clients = new Set<TerminalSink>();
  readonly #paused = new Set<TerminalSink>();
  #exit: { exitCode: number | null; signal: string | null } | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    addon: PtyAddon,
    spawn: PtySpawnOptions,
    private readonly options: ReconnectingPtyOptions,
  ) {
    this.id = options.id;
    this.#scrollback = new Scrollback(options.scrollbackBytes);
    this.#pty = new Pty(addon, spawn, {
      data: (chunk) => this.#onData(chunk),
      exit: (exitCode, signal) => this.#onExit(exitCode, signal),
    });
  }

  get pid(): number {
    return this.#pty.pid;
  }

  get clients(): number {
    return this.#clients.size;
  }

  get exited(): boolean {
    return this.#exit !== undefined;
  }

  /** Replays the scrollback to `sink`, then streams live output to it until it detaches. */
  attach(sink: TerminalSink): TerminalAttachment {
    this.#clearIdleTimer();
    if (!safely(() => sendChunks(sink, this.#scrollback.snapshot()))) {
      if (this.#clients.size === 0) this.#startIdleTimer();
      return detached;
    }
    if (this.#exit) {
      safely(() => sink.exit(this.#exit?.exitCode ?? null, this.#exit?.signal ?? null));
      this.#close();
      return detached;
    }
    this.#clients.add(sink);
    let attached = true;
    return {
      write: (data) => {
        if (!attached || data.length === 0) return;
        this.options.onInput?.();
        this.#pty.write(data);
      },
      // Several clients may share a terminal; the last one to resize sets its size.
      resize: (cols, rows) => {
        if (attached) this.#pty.resize(cols, rows);
      },
      pause: () => {
        if (attached) this.#setPaused(sink, true);
      },
      resume: () => {
        if (attached) this.#setPaused(sink, false);
      },
      detach: () => {
        if (!attached) return;
        attached = false;
        this.#removeClient(sink);
      },
    };
  }

  /** Ends the process (SIGHUP, then SIGKILL) and drops the session now. Attached clients see the exit. */
  kill(): void {
    if (!this.#exit) {
      this.#pty.kill('SIGHUP');
      setTimeout(() => this.#pty.kill('SIGKILL'), this.options.killGraceMs).unref();
    }
    this.#close();
  }

  #onData(chunk: Buffer): void {
    this.#scrollback.write(chunk);
    for (const sink of this.#clients) {
      if (!safely(() => sendChunks(sink, chunk))) this.#removeClient(sink);
    }
  }

  #onExit(exitCode: number | null, signal: string | null): void {
    this.#exit = { exitCode, signal };
    const told = this.#clients.size > 0;
    for (const sink of this.#clients) safely(() => sink.exit(exitCode, signal));
    this.#clients.clear();
    this.#paused.clear();
    // Nobody saw the exit: keep the output and the code for a client that comes back.
    if (told) this.#close();
    else this.#startIdleTimer();
  }

  #setPaused(sink: TerminalSink, paused: boolean): void {
    if (paused) this.#paused.add(sink);
    else this.#paused.delete(sink);
    if (this.#paused.size > 0) this.#pty.pause();
    else this.#pty.resume();
  }

  #removeClient(sink: TerminalSink): void {
    this.#clients.delete(sink);
    this.#setPaused(sink, false);
    if (this.#clients.size === 0) this.#startIdleTimer();
  }

  #startIdleTimer(): void {
    this.#clearIdleTimer();
    if (this.#closed) return;
    this.#idleTimer = setTimeout(() => this.kill(), this.options.idleTimeoutMs);
    this.#idleTimer.unref();
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  #close(): void {
    this.#clearIdleTimer();
    if (this.#closed) return;
    this.#closed = true;
    this.options.onClose(this);
  }
}

const detached: TerminalAttachment = { write() {}, resize() {}, pause() {}, resume() {}, detach() {} };

function sendChunks(sink: TerminalSink, bytes: Buffer): void {
  for (let at = 0; at < bytes.length; at += TERMINAL_CHUNK_BYTES) {
    sink.data(bytes.subarray(at, at + TERMINAL_CHUNK_BYTES));
  }
}

/** A client whose sink throws is dropped; it must not take the terminal or other clients down. */
function safely(send: () => void): boolean {
  try {
    send();
    return true;
  } catch {
    return false;
  }
}
