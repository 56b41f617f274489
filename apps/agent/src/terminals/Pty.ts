import fs from 'node:fs';
import os from 'node:os';
import tty from 'node:tty';
import type { PtyAddon } from './PtyAddon';

export interface PtySpawnOptions {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  cols: number;
  rows: number;
}

export interface PtyEvents {
  /** Raw bytes as the process wrote them; never called after `exit`. */
  data(chunk: Buffer): void;
  /** Once, after the last `data`. `exitCode` is null when a signal ended the process. */
  exit(exitCode: number | null, signal: string | null): void;
}

/**
 * After the process exits, how long to keep reading when another process (a background job)
 * still holds the terminal open, so the exit report is not held back forever.
 */
const DRAIN_AFTER_EXIT_MS = 200;
const READ_CHUNK_BYTES = 64 * 1024;

/**
 * One process on a pseudo-terminal, through node-pty's addon: bytes in and out, resize, signals.
 * The addon forks with the terminal as the child's controlling tty and reports the exit from a
 * waitpid thread; this class reads the master side and sends the exit only after the output.
 *
 * The agent holds the terminal's slave side open itself. Otherwise the child's exit hangs the
 * terminal up, and libuv, seeing POLLHUP after a short read, reports end-of-file while the
 * kernel still holds the last kilobytes of output (they were lost in 3 of 8 runs of
 * `seq 1 100000`). With the slave held there is no hangup until the agent closes it, after the
 * exit, and then reads what is left itself until the kernel says EIO: everything was read.
 */
export class Pty {
  readonly pid: number;
  readonly #fd: number;
  readonly #addon: PtyAddon;
  readonly #events: PtyEvents;
  readonly #reader: tty.ReadStream;
  #slave: number | undefined;
  readonly #writes: Buffer[] = [];
  #writing = false;
  #readerClosed = false;
  #paused = false;
  #exit: { code: number; signal: number } | undefined;
  #exitReported = false;

  constructor(addon: PtyAddon, options: PtySpawnOptions, events: PtyEvents) {
    this.#addon = addon;
    this.#events = events;
    const env = Object.entries(options.env).map(([k, v]) => `${k}=${v}`);
    const child = addon.fork(
      options.file,
      options.args,
      env,
      options.cwd,
      options.cols,
      options.rows,
      -1,
      -1,
      true,
      addon.spawnHelperPath,
      (code, signal) => {
        this.#exit = { code, signal };
        this.#finish();
      },
    );
    this.pid = child.pid;
    this.#fd = child.fd;
    // Before the event loop polls: a child that already exited has not hung the terminal up yet.
    this.#slave = openSlave(child.pty);
    this.#reader = new tty.ReadStream(child.fd);
    this.#reader.on('data', (chunk: Buffer) => this.#deliver(chunk));
    // EAGAIN is a spurious wake-up; EIO means every process closed the terminal: the output is over.
    this.#reader.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EAGAIN') this.#closeReader();
    });
    this.#reader.on('close', () => {
      this.#readerClosed = true;
      this.#closeSlave();
      if (this.#exit) this.#reportExit();
    });
  }

  get exited(): boolean {
    return this.#exitReported;
  }

  /** Queued in order; a full terminal buffer (EAGAIN) is retried, never dropped. */
  write(data: Uint8Array): void {
    if (this.#exit || data.length === 0) return;
    this.#writes.push(Buffer.from(data));
    if (!this.#writing) this.#drainWrites();
  }

  resize(cols: number, rows: number): void {
    if (this.#exit || this.#readerClosed) return;
    try {
      this.#addon.resize(this.#fd, cols, rows);
    } catch {
      // The terminal closed under us (ioctl EBADF/ENOTTY): there is nothing left to resize.
    }
  }

  /**
   * Stops reading while a client cannot keep up: the terminal's buffer fills and the process
   * blocks on its next write, as it would on a slow real terminal, instead of the agent buffering.
   */
  pause(): void {
    this.#paused = true;
    this.#reader.pause();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#reader.resume();
    // The process ended while paused: what it printed is still to be read before the exit.
    this.#finish();
  }

  /** Signals the process; a process that is already gone is not an error. */
  kill(signal: NodeJS.Signals = 'SIGHUP'): void {
    if (this.#exit) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // It exited between the check and the signal.
    }
  }

  #deliver(chunk: Buffer): void {
    if (!this.#exitReported) this.#events.data(chunk);
  }

  /** After the exit: read the rest of the output, then report the exit. */
  #finish(): void {
    if (!this.#exit || this.#paused) return;
    if (this.#readerClosed) this.#reportExit();
    // No slave of our own to control the hangup with: the best is a grace period.
    else if (this.#slave === undefined || this.#reader.readableLength > 0) this.#closeReaderSoon();
    else if (this.#readToEnd()) this.#closeReader();
    // A background job still has the terminal open; keep streaming for a while.
    else this.#closeReaderSoon();
  }

  /**
   * Stops libuv reading (it would race us), lets the terminal hang up and reads what is left.
   * False when it cannot hang up because another process holds it (EAGAIN).
   */
  #readToEnd(): boolean {
    this.#reader.pause();
    this.#closeSlave();
    const buffer = Buffer.alloc(READ_CHUNK_BYTES);
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(this.#fd, buffer, 0, buffer.length, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return true; // EIO: all was read.
        this.#reader.resume();
        return false;
      }
      if (n === 0) return true;
      this.#deliver(Buffer.from(buffer.subarray(0, n)));
    }
  }

  #drainWrites(): void {
    const next = this.#writes[0];
    if (!next || this.#exit) {
      this.#writing = false;
      return;
    }
    this.#writing = true;
    fs.write(this.#fd, next, 0, next.length, null, (error, written) => {
      if (error) {
        if (error.code === 'EAGAIN') {
          setImmediate(() => this.#drainWrites());
          return;
        }
        // The terminal is gone (EIO, EBADF): nothing more can be written.
        this.#writes.length = 0;
        this.#writing = false;
        return;
      }
      if (written >= next.length) this.#writes.shift();
      else this.#writes[0] = next.subarray(written);
      this.#drainWrites();
    });
  }

  #closeReaderSoon(): void {
    setTimeout(() => this.#closeReader(), DRAIN_AFTER_EXIT_MS).unref();
  }

  #closeReader(): void {
    if (!this.#readerClosed) this.#reader.destroy();
  }

  #closeSlave(): void {
    if (this.#slave === undefined) return;
    try {
      fs.closeSync(this.#slave);
    } catch {
      // Already closed.
    }
    this.#slave = undefined;
  }

  #reportExit(): void {
    if (this.#exitReported || !this.#exit) return;
    this.#exitReported = true;
    const { code, signal } = this.#exit;
    this.#events.exit(signal ? null : code, signal ? signalName(signal) : null);
  }
}

/** The slave side, opened so the agent never gets it as its own controlling terminal. */
function openSlave(path: string): number | undefined {
  try {
    return fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  } catch {
    return undefined;
  }
}

function signalName(signal: number): string {
  for (const [name, number] of Object.entries(os.constants.signals)) if (number === signal) return name;
  return `SIG${signal}`;
}
