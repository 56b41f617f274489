// The servers a bench measures: any Node server that prints its URL on a stdout line, and the
// Warren daemon as built (apps/daemon/dist/warren.mjs) on a fresh temp data dir, with its first
// user signed in over tRPC. Every process and dir is registered with ./cleanup.mjs.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isInterrupted, makeTempDir, onCleanup, trackChild } from './cleanup.mjs';
import { log } from './log.mjs';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The daemon's app dir and the bundle the benches run. */
export const DAEMON_DIR = path.join(ROOT, 'apps', 'daemon');
export const DAEMON_BIN = path.join(DAEMON_DIR, 'dist', 'warren.mjs');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      newest = Math.max(newest, fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * Runs `node build.mjs` in `dir` when `bundle` is missing or `force` is set; a bundle older than its
 * sources (dir/src, packages/core/src, dir/build.mjs) is used with a warning, so a plain run never
 * rewrites files outside bench/ behind anyone's back.
 */
export function ensureBuilt({ name, dir, bundle }, force) {
  const built = fs.existsSync(bundle) ? fs.statSync(bundle).mtimeMs : 0;
  const relative = path.relative(ROOT, bundle);
  if (built && !force) {
    const sources = [path.join(dir, 'src'), path.join(ROOT, 'packages', 'core', 'src')].filter((d) =>
      fs.existsSync(d),
    );
    const newestSource = Math.max(
      fs.statSync(path.join(dir, 'build.mjs')).mtimeMs,
      ...sources.map(newestMtime),
    );
    if (newestSource > built) {
      log(`warning: ${relative} is older than its sources; pass --build to rebuild it first.`);
    }
    return;
  }
  log(
    `building the ${name} (${built ? '--build given' : `${relative} is missing`}): cd ${path.relative(ROOT, dir)} && node build.mjs`,
  );
  const result = spawnSync(process.execPath, ['build.mjs'], {
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) {
    throw new Error(`Building the ${name} failed (${result.signal ?? `exit code ${result.status}`}).`);
  }
}

/**
 * Spawns `node ...args` (cwd: the repository root) and waits until `ready(line)` returns its URL from
 * a stdout line. Returns { url, pid, died, stop, lastOutput }: `died` rejects, with the server's last output, if
 * it exits before `stop` (or Ctrl-C) stops it; `stop` sends SIGTERM, then SIGKILL after 5 s. With
 * `ipc`, the server gets an IPC channel, so it can notice when this process goes away.
 */
export async function startServer({ name, args, env = process.env, ipc = false, ready, timeoutMs = 30_000 }) {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? ['ipc'] : [])],
  });
  const exited = trackChild(child);
  let output = ''; // the last 64 KiB, so a failure can show why
  const keep = (chunk) => {
    output = (output + chunk).slice(-64 * 1024);
  };
  const lastOutput = () => output.trim().split('\n').slice(-20).join('\n');
  let stopping = false;
  const stop = onCleanup(`stop ${name}`, async () => {
    stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  });

  const url = await new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within ${timeoutMs / 1000} s.`)),
      timeoutMs,
    );
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', keep);
    child.stdout.on('data', (chunk) => {
      keep(chunk);
      buffered += chunk;
      let newline = buffered.indexOf('\n');
      while (newline !== -1) {
        const found = ready(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
        newline = buffered.indexOf('\n');
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${name} could not be started: ${error.message}`));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before it was ready (${signal ?? `code ${code}`}).`));
    });
  }).catch(async (error) => {
    await stop();
    const tail = lastOutput();
    throw new Error(tail ? `${error.message}\nIts last output:\n${tail}` : error.message);
  });

  // A server that dies mid-run fails that run, with its last words.
  const died = exited.then(({ code, signal }) => {
    if (stopping || isInterrupted()) return new Promise(() => {});
    const tail = lastOutput();
    throw new Error(
      `${name} exited during the run (${signal ?? `code ${code}`}).${tail ? `\nIts last output:\n${tail}` : ''}`,
    );
  });
  died.catch(() => {});
  return { url, pid: child.pid, died, stop, lastOutput };
}

/** Environment for the daemon: ours minus WARREN_* settings, so only the flags we pass apply. */
function daemonEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('WARREN_')));
}

/**
 * Starts `warren server` on 127.0.0.1:0 with warn-level JSON logs and `args` added, on a fresh temp
 * data dir; `nodeArgs` go to node itself (e.g. --cpu-prof). Returns startServer's { url, pid, died,
 * stop } plus `dir`; stop also removes the dir.
 */
export async function startDaemon({ name, args = [], nodeArgs = [] }) {
  const { dir, remove } = makeTempDir('warren-bench-');
  const server = await startServer({
    name,
    args: [
      ...nodeArgs,
      DAEMON_BIN,
      'server',
      '--listen',
      '127.0.0.1:0',
      '--data-dir',
      dir,
      '--log-level',
      'warn',
      '--log-format',
      'json',
      ...args,
    ],
    env: daemonEnv(),
    ready: (line) => /Warren is running at (\S+)/.exec(line)?.[1],
  });
  return {
    ...server,
    dir,
    // The data dir goes as soon as its daemon has stopped, not at the end of the whole run.
    stop: async () => {
      await server.stop();
      await remove();
    },
  };
}

/** An error answer from trpc(), with its HTTP status. */
export class TrpcError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/** Calls a tRPC procedure (GET: input in the query; POST: input as the JSON body); returns result.data or throws TrpcError. */
export async function trpc(baseUrl, method, procedure, { input, headers = {} } = {}) {
  const query =
    method === 'GET' && input !== undefined ? `?input=${encodeURIComponent(JSON.stringify(input))}` : '';
  const response = await fetch(`${baseUrl}/api/trpc/${procedure}${query}`, {
    method,
    headers: { ...headers, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    body: method === 'POST' ? JSON.stringify(input ?? {}) : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) {
    let message = text.slice(0, 500);
    try {
      message = JSON.parse(text)?.error?.message ?? message;
    } catch {}
    throw new TrpcError(`${procedure} answered HTTP ${response.status}: ${message}`, response.status);
  }
  return JSON.parse(text)?.result?.data;
}

/** Creates the daemon's first user `username` (random password), signs in; returns { headers } with the bearer token. */
export async function signInFirstUser(baseUrl, { name, username }) {
  const password = `bench-${randomBytes(12).toString('hex')}`;
  await trpc(baseUrl, 'POST', 'setup.createFirstUser', {
    input: { username, email: `${username}@example.com`, password },
  });
  const login = await trpc(baseUrl, 'POST', 'auth.login', {
    input: { login: username, password, sessionIn: 'body' },
  });
  if (typeof login?.token !== 'string' || !login.token)
    throw new Error(`${name}: auth.login returned no token.`);
  return { headers: { authorization: `Bearer ${login.token}` } };
}
