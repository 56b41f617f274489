#!/usr/bin/env node
// API benchmark: the daemon's authenticated read (`auth.whoami`) on SQLite and on PostgreSQL,
// against a bare Fastify route as the baseline. Run from the repository root: `pnpm bench:api`.
// See bench/README.md for what the columns mean. Progress goes to stderr, the table to stdout.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const DAEMON_DIR = path.join(ROOT, 'apps', 'daemon');
const DAEMON_BIN = path.join(DAEMON_DIR, 'dist', 'warren.mjs');
const BARE_SERVER = path.join(HERE, 'bare-server.mjs');

// ---------------------------------------------------------------------------------------------
// Options

const USAGE = `Usage: pnpm bench:api [-- options]

  --duration N       seconds measured per target (default 5)
  --warmup N         seconds of discarded warm-up load before each measurement (default 1)
  --connections N    concurrent connections (default 64)
  --postgres-url URL admin connection used to create and drop the throwaway database
                     (default $WARREN_BENCH_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --no-postgres      skip the PostgreSQL row
  --build            rebuild apps/daemon/dist/warren.mjs first (it is built anyway when missing)
  -h, --help         show this help
`;

function parseArgs(argv) {
  const options = {
    duration: 5,
    warmup: 1,
    connections: 64,
    postgresUrl: process.env.WARREN_BENCH_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    postgres: true,
    build: false,
  };
  const args = argv.filter((a) => a !== '--'); // `pnpm bench:api -- --duration 2` passes the `--` through
  const number = (flag, value, { min, integer }) => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      throw new UsageError(
        `${flag} needs ${integer ? 'an integer' : 'a number'} >= ${min}, got ${value ?? 'nothing'}.`,
      );
    }
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] =
      args[i].startsWith('--') && args[i].includes('=') ? args[i].split(/=(.*)/s) : [args[i]];
    const value = () => (inline !== undefined ? inline : args[++i]);
    switch (flag) {
      case '--duration':
        options.duration = number(flag, value(), { min: 1, integer: true });
        break;
      case '--warmup':
        options.warmup = number(flag, value(), { min: 0, integer: true });
        break;
      case '--connections':
        options.connections = number(flag, value(), { min: 1, integer: true });
        break;
      case '--postgres-url':
        options.postgresUrl = value();
        if (!/^postgres(ql)?:\/\//.test(options.postgresUrl ?? ''))
          throw new UsageError('--postgres-url must start with postgres://.');
        break;
      case '--no-postgres':
        options.postgres = false;
        break;
      case '--build':
        options.build = true;
        break;
      case '-h':
      case '--help':
        process.stdout.write(USAGE);
        process.exit(0);
        break;
      default:
        throw new UsageError(`Unknown option ${args[i]}.`);
    }
  }
  return options;
}

class UsageError extends Error {}

const log = (message) => process.stderr.write(`${message}\n`);

/** The URL without its password, for messages. */
function redactUrl(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

// ---------------------------------------------------------------------------------------------
// Cleanup: everything started is registered here and undone in reverse order, on success, on
// error and on Ctrl-C. Child processes and temp dirs are also removed synchronously at exit as a
// last resort (an async DROP DATABASE cannot run there).

const cleanups = [];
const children = new Set();
const tempDirs = new Set();

function onCleanup(label, fn) {
  const entry = { label, fn };
  cleanups.push(entry);
  return async () => {
    const index = cleanups.indexOf(entry);
    if (index === -1) return;
    cleanups.splice(index, 1);
    await fn();
  };
}

async function cleanupAll() {
  while (cleanups.length) {
    const { label, fn } = cleanups.pop();
    try {
      await fn();
    } catch (error) {
      log(`cleanup: ${label} failed: ${error.message}`);
    }
  }
}

process.on('exit', () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (interrupted) process.exit(1); // second Ctrl-C: give up on graceful cleanup
    interrupted = true;
    log(`\n${signal}: stopping and cleaning up...`);
    cleanupAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

function makeTempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  const remove = onCleanup(`remove ${dir}`, () => {
    fs.rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  });
  return { dir, remove };
}

// ---------------------------------------------------------------------------------------------
// Child processes

/**
 * Spawns a server and waits for `ready(line)` to return its URL from a stdout line. Output is kept
 * (the last 64 KiB) so a failure can show why. Returns { url, stop }.
 */
async function startServer({ name, args, env, ipc = false, ready, timeoutMs = 30_000 }) {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? ['ipc'] : [])],
  });
  children.add(child);
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk).slice(-64 * 1024);
  };
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => children.delete(child));

  const stop = onCleanup(`stop ${name}`, async () => {
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
    const tail = output.trim().split('\n').slice(-20).join('\n');
    throw new Error(tail ? `${error.message}\nIts last output:\n${tail}` : error.message);
  });

  // Output after startup is kept for diagnostics; also fail loudly if the server dies mid-run.
  exited.then(({ code, signal }) => {
    if (stopping.has(child) || interrupted) return;
    const tail = output.trim().split('\n').slice(-20).join('\n');
    died.push(
      `${name} exited during the run (${signal ?? `code ${code}`}).${tail ? `\nIts last output:\n${tail}` : ''}`,
    );
  });
  return {
    url,
    stop: async () => {
      stopping.add(child);
      await stop();
    },
  };
}
const stopping = new WeakSet();
const died = [];

/** Environment for the daemon: ours minus WARREN_* settings, so only the flags we pass apply. */
function daemonEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('WARREN_')));
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      newest = Math.max(newest, fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * The benchmark measures apps/daemon/dist/warren.mjs as built. It is built here only when it is
 * missing or --build is given; a bundle older than its sources is used with a warning, so a plain
 * run never rewrites files outside bench/ behind anyone's back.
 */
function ensureDaemonBuilt(forceBuild) {
  const built = fs.existsSync(DAEMON_BIN) ? fs.statSync(DAEMON_BIN).mtimeMs : 0;
  const relative = path.relative(ROOT, DAEMON_BIN);
  if (built && !forceBuild) {
    const sources = [path.join(DAEMON_DIR, 'src'), path.join(ROOT, 'packages', 'core', 'src')].filter((d) =>
      fs.existsSync(d),
    );
    const newestSource = Math.max(
      fs.statSync(path.join(DAEMON_DIR, 'build.mjs')).mtimeMs,
      ...sources.map(newestMtime),
    );
    if (newestSource > built) {
      log(`warning: ${relative} is older than its sources; pass --build to rebuild it first.`);
    }
    return;
  }
  log(
    `building the daemon (${built ? '--build given' : `${relative} is missing`}): cd apps/daemon && node build.mjs`,
  );
  const result = spawnSync(process.execPath, ['build.mjs'], {
    cwd: DAEMON_DIR,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) {
    throw new Error(`Building the daemon failed (${result.signal ?? `exit code ${result.status}`}).`);
  }
}

async function startBare() {
  return startServer({
    name: 'bare Fastify server',
    args: [BARE_SERVER],
    env: process.env,
    ipc: true,
    ready: (line) => /^listening (\S+)/.exec(line)?.[1],
  });
}

/** Starts the daemon on a fresh temp data dir (and the given database), creates the owner, signs in. */
async function startDaemonWithUser({ name, postgresUrl }) {
  const { dir, remove } = makeTempDir('warren-bench-');
  const args = [
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
  ];
  if (postgresUrl) args.push('--postgres-url', postgresUrl);
  const started = await startServer({
    name,
    args,
    env: daemonEnv(),
    ready: (line) => /Warren is running at (\S+)/.exec(line)?.[1],
  });
  // The data dir goes as soon as its daemon has stopped, not at the end of the whole run.
  const server = {
    ...started,
    stop: async () => {
      await started.stop();
      await remove();
    },
  };

  const username = 'bench';
  const password = `bench-${randomBytes(12).toString('hex')}`;
  await trpc(server.url, 'POST', 'setup.createFirstUser', {
    body: { username, email: 'bench@example.com', password },
  });
  const login = await trpc(server.url, 'POST', 'auth.login', {
    body: { login: username, password, sessionIn: 'body' },
  });
  const token = login?.token;
  if (typeof token !== 'string' || !token) throw new Error(`${name}: auth.login returned no token.`);
  const headers = { authorization: `Bearer ${token}` };
  const me = await trpc(server.url, 'GET', 'auth.whoami', { headers });
  if (me?.username !== username)
    throw new Error(`${name}: auth.whoami answered ${JSON.stringify(me)}, not user "${username}".`);
  return { ...server, headers };
}

async function trpc(baseUrl, method, procedure, { body, headers = {} } = {}) {
  const response = await fetch(`${baseUrl}/api/trpc/${procedure}`, {
    method,
    headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${procedure} answered HTTP ${response.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text)?.result?.data;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL throwaway database

async function createThrowawayDatabase(adminUrl) {
  const connect = async () => {
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
    client.on('error', () => {}); // a dropped connection surfaces through the query instead
    await client.connect();
    return client;
  };
  let admin;
  try {
    admin = await connect();
  } catch (error) {
    return {
      skipped: `could not connect to ${redactUrl(adminUrl)}: ${error.message || error.code || error}`,
    };
  }
  const name = `warren_bench_${randomBytes(6).toString('hex')}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    await admin.end().catch(() => {});
    return { skipped: `could not create a database on ${redactUrl(adminUrl)}: ${error.message}` };
  }
  await admin.end().catch(() => {});
  const drop = onCleanup(`drop database ${name}`, async () => {
    const client = await connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await client.end().catch(() => {});
    }
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop };
}

// ---------------------------------------------------------------------------------------------
// Load

function runAutocannon(opts, onResponse) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(opts, (error, result) => (error ? reject(error) : resolve(result)));
    if (onResponse) instance.on('response', onResponse);
  });
}

/**
 * Warm-up (discarded), then the measured run. Latency percentiles are computed here from every
 * 2xx response time, because autocannon's histogram stores whole milliseconds and would round a
 * 0.9 ms p50 down to 0.
 */
async function measure(label, { url, headers }, options) {
  const base = { url, headers, connections: options.connections, pipelining: 1, timeout: 10 };
  if (options.warmup > 0) {
    log(`${label}: warming up for ${options.warmup} s...`);
    const warm = await runAutocannon({ ...base, duration: options.warmup });
    if (warm.non2xx || warm.errors) {
      log(
        `${label}: warm-up saw ${warm.non2xx} non-2xx responses and ${warm.errors} errors ${JSON.stringify(warm.statusCodeStats)}`,
      );
    }
  }
  log(`${label}: measuring for ${options.duration} s at ${options.connections} connections...`);
  let times = new Float64Array(1 << 16);
  let count = 0;
  const result = await runAutocannon(
    { ...base, duration: options.duration },
    (_client, statusCode, _bytes, responseTime) => {
      if (statusCode < 200 || statusCode >= 300) return;
      if (count === times.length) {
        const grown = new Float64Array(times.length * 2);
        grown.set(times);
        times = grown;
      }
      times[count++] = responseTime;
    },
  );
  const sorted = times.subarray(0, count).sort();
  const percentile = (p) =>
    count ? sorted[Math.min(count - 1, Math.ceil((p / 100) * count) - 1)] : Number.NaN;
  return {
    label,
    requestsPerSec: result.requests.average,
    total2xx: result['2xx'],
    p50: percentile(50),
    p99: percentile(99),
    non2xx: result.non2xx,
    errors: result.errors, // includes timeouts
    statusCodeStats: result.statusCodeStats,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

function formatTable(rows, baseline) {
  const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
  const fmtMs = (n) => (Number.isFinite(n) ? `${n.toFixed(2)} ms` : 'n/a');
  const fmtRatio = (n) => (Number.isFinite(n) ? `${n >= 10 ? n.toFixed(1) : n.toFixed(2)}x` : 'n/a');
  const header = ['target', 'req/s', 'p50', 'p99', 'non-2xx', 'errors', 'req/s vs bare', 'p99 vs bare'];
  const rightAligned = [false, true, true, true, true, true, true, true];
  const body = rows.map((r) => [
    r.label,
    fmtInt(r.requestsPerSec),
    fmtMs(r.p50),
    fmtMs(r.p99),
    fmtInt(r.non2xx),
    fmtInt(r.errors),
    baseline ? fmtRatio(r.requestsPerSec / baseline.requestsPerSec) : 'n/a',
    baseline ? fmtRatio(r.p99 / baseline.p99) : 'n/a',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells) =>
    cells
      .map((cell, i) => (rightAligned[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const loadBefore = os.loadavg()[0];
  ensureDaemonBuilt(options.build);

  const rows = [];
  const notes = [];
  const failures = [];
  const bench = async (label, start) => {
    const server = await start();
    let row;
    try {
      row = await measure(label, server, options);
    } finally {
      await server.stop();
    }
    if (died.length) throw new Error(died.join(' '));
    rows.push(row);
    if (row.non2xx > 0 || row.errors > 0) {
      failures.push(
        `${label}: ${row.non2xx} non-2xx responses and ${row.errors} errors; status codes ${JSON.stringify(row.statusCodeStats)}`,
      );
    }
    return row;
  };

  const baseline = await bench('bare Fastify GET /hello', async () => {
    log('starting the bare Fastify server...');
    const server = await startBare();
    return { ...server, url: `${server.url}/hello`, headers: {} };
  });

  const daemonRow = (label, name, postgresUrl) =>
    bench(label, async () => {
      log(`starting the daemon (${name})...`);
      const server = await startDaemonWithUser({ name: `daemon (${name})`, postgresUrl });
      return { ...server, url: `${server.url}/api/trpc/auth.whoami` };
    });

  await daemonRow('daemon auth.whoami, SQLite', 'SQLite');

  const pgLabel = 'daemon auth.whoami, PostgreSQL';
  if (!options.postgres) {
    notes.push(`${pgLabel}: skipped (--no-postgres).`);
  } else {
    const database = await createThrowawayDatabase(options.postgresUrl);
    if (database.skipped) {
      log(`${pgLabel}: skipped: ${database.skipped}`);
      notes.push(`${pgLabel}: skipped: ${database.skipped}`);
    } else {
      log(`created throwaway database ${database.name}`);
      try {
        await daemonRow(pgLabel, 'PostgreSQL', database.url);
      } finally {
        await database.drop();
        log(`dropped database ${database.name}`);
      }
    }
  }

  const cpus = os.cpus();
  process.stdout.write(
    `\nAPI benchmark: ${options.connections} connections, ${options.duration} s measured after ${options.warmup} s warm-up per target\n` +
      `node ${process.version}, ${cpus.length} x ${cpus[0]?.model?.trim() ?? 'unknown CPU'}, load generator (autocannon) in this process\n` +
      `1-minute load average before the run: ${loadBefore.toFixed(2)} (other work on the machine skews the results)\n\n` +
      `${formatTable(rows, baseline)}\n`,
  );
  for (const note of notes) process.stdout.write(`\n${note}\n`);
  if (failures.length) {
    process.stdout.write(
      `\nFAILED: every response must be 2xx with no errors.\n${failures.map((f) => `  ${f}`).join('\n')}\n`,
    );
    return 1;
  }
  return 0;
}

let exitCode;
try {
  exitCode = await main();
} catch (error) {
  if (error instanceof UsageError) {
    log(`${error.message}\n\n${USAGE}`);
    exitCode = 2;
  } else {
    log(`\nbench:api failed: ${error.stack ?? error}`);
    exitCode = 1;
  }
} finally {
  await cleanupAll();
}
process.exit(exitCode);
