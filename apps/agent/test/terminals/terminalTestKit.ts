import { createRequire } from 'node:module';
import path from 'node:path';
import { currentAddonTarget, loadPtyAddon, type PtyAddon } from '../../src/terminals/PtyAddon';
import type { TerminalSink } from '../../src/terminals/ReconnectingPty';

/** The pty.node that `pnpm install` compiled for this machine: the same file the daemon serves. */
export function builtAddonPath(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('node-pty/package.json')), 'build', 'Release', 'pty.node');
}

let addon: PtyAddon | undefined;
export function testAddon(): Promise<PtyAddon> {
  addon ??= loadPtyAddon(builtAddonPath(), currentAddonTarget());
  return Promise.resolve(addon);
}

/** A client that records what a terminal sends it and can wait for it. */
export class RecordingSink implements TerminalSink {
  readonly chunks: Buffer[] = [];
  exitStatus: { exitCode: number | null; signal: string | null } | undefined;
  #waiters: (() => void)[] = [];

  data(chunk: Buffer): void {
    this.chunks.push(Buffer.from(chunk));
    this.#wake();
  }

  exit(exitCode: number | null, signal: string | null): void {
    this.exitStatus = { exitCode, signal };
    this.#wake();
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Resolves once `ready()` holds; fails with what was received so far after `timeoutMs`. */
  async until(ready: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.text.slice(-500))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  untilText(pattern: string | RegExp, timeoutMs?: number): Promise<void> {
    const test = () => (typeof pattern === 'string' ? this.text.includes(pattern) : pattern.test(this.text));
    return this.until(test, `output matching ${String(pattern)}`, timeoutMs);
  }

  untilExit(timeoutMs?: number): Promise<{ exitCode: number | null; signal: string | null }> {
    return this.until(() => this.exitStatus !== undefined, 'the exit', timeoutMs).then(
      () => this.exitStatus as { exitCode: number | null; signal: string | null },
    );
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/** `line 1\r\n` ... `line n\r\n`: what a terminal shows for a numbered sequence (ONLCR adds the \r). */
export function numberedLines(n: number): string {
  let out = '';
  for (let i = 1; i <= n; i++) out += `line ${i}\r\n`;
  return out;
}

/** A shell command printing `line 1` ... `line n`, pausing `pauseSeconds` between lines. */
export function printNumbered(n: number, pauseSeconds: number): string {
  return `i=1; while [ $i -le ${n} ]; do echo "line $i"; i=$((i+1)); sleep ${pauseSeconds}; done`;
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
