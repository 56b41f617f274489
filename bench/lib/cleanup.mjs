// Cleanup for the benchmarks: everything a bench starts is registered here and undone in reverse
// order, on success, on error and on Ctrl-C (SIGINT, SIGTERM, SIGHUP; a second one exits at once).
// At process exit, as a last resort, tracked child processes and any process working inside a temp
// dir are SIGKILLed, atExit hooks run and temp dirs are removed. That step is synchronous, so async
// work (DROP DATABASE, API deletes) happens only through onCleanup.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from './args.mjs';
import { log } from './log.mjs';
import { killProcessesIn } from './proc.mjs';

const cleanups = [];
const children = new Set();
const tempDirs = new Set();
const exitHooks = [];
let interrupted = false;
/** The signal handler's cleanup; once it is set, the handler owns the exit. */
let interruptCleanup;

process.on('exit', () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of tempDirs) killProcessesIn(dir);
  for (const hook of exitHooks) hook();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (interrupted) process.exit(1); // second Ctrl-C: give up on graceful cleanup
    interrupted = true;
    log(`\n${signal}: stopping and cleaning up...`);
    interruptCleanup = cleanupAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

/** Registers `fn` to undo something (newest runs first); returns a function that runs it now instead, once. */
export function onCleanup(label, fn) {
  const entry = { label, fn };
  cleanups.push(entry);
  return async () => {
    const index = cleanups.indexOf(entry);
    if (index === -1) return;
    cleanups.splice(index, 1);
    await fn();
  };
}

/** Runs every registered cleanup, newest first; one that fails is logged and the rest still run. */
export async function cleanupAll() {
  while (cleanups.length) {
    const { label, fn } = cleanups.pop();
    try {
      await fn();
    } catch (error) {
      log(`cleanup: ${label} failed: ${error.message}`);
    }
  }
}

/** Adds a synchronous last-resort step to process exit (after the kills, before temp dirs go). */
export function atExit(fn) {
  exitHooks.push(fn);
}

/** SIGKILLs `child` at exit if it still runs; returns a promise of its { code, signal } when it exits. */
export function trackChild(child) {
  children.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => children.delete(child));
  return exited;
}

/** True once a signal has asked the run to stop. */
export const isInterrupted = () => interrupted;

/** Throws once a signal has asked the run to stop; call it between steps so that nothing new starts. */
export function throwIfInterrupted() {
  if (interrupted) throw new Error('interrupted');
}

/**
 * A fresh temp dir: { dir, remove }. It is removed at cleanup (or by `remove`), and before it goes
 * every process whose working directory is inside it is killed, so agents a daemon ran there with
 * their workspace home as cwd cannot outlive the bench.
 */
export function makeTempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  const remove = onCleanup(`remove ${dir}`, async () => {
    if (killProcessesIn(dir) > 0) await sleep(200); // let the kernel release their files
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    tempDirs.delete(dir);
  });
  return { dir, remove };
}

/** Runs `main` (it resolves to the exit code), reports its error (a UsageError with `usage`: exit 2, else 1), cleans up, exits. */
export async function runBench({ name, usage }, main) {
  let exitCode;
  try {
    exitCode = await main();
  } catch (error) {
    // After Ctrl-C the requests in flight fail as their servers stop; that is not worth a report.
    if (interrupted) await interruptCleanup;
    if (error instanceof UsageError) {
      log(`${error.message}\n\n${usage}`);
      exitCode = 2;
    } else {
      log(`\n${name} failed: ${error.stack ?? error}`);
      exitCode = 1;
    }
  } finally {
    if (interrupted) await interruptCleanup;
    await cleanupAll();
  }
  process.exit(exitCode);
}
