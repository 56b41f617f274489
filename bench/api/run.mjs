#!/usr/bin/env node
// API benchmark: the daemon's authenticated read (`auth.whoami`) on SQLite and on PostgreSQL,
// against a bare Fastify route as the baseline. Run from the repository root: `pnpm bench:api`.
// See bench/README.md for what the columns mean. Progress goes to stderr, the table to stdout.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { integer, matching, parseArgs, toggle } from '../lib/args.mjs';
import { runBench } from '../lib/cleanup.mjs';
import {
  DAEMON_BIN,
  DAEMON_DIR,
  ensureBuilt,
  signInFirstUser,
  startDaemon,
  startServer,
  trpc,
} from '../lib/daemon.mjs';
import { log } from '../lib/log.mjs';
import { createThrowawayDatabase, DEFAULT_POSTGRES_URL } from '../lib/postgres.mjs';
import { fmtRatio, formatTable, loadAverage, loadLine, machineLine } from '../lib/report.mjs';
import { percentile } from '../lib/stats.mjs';

const BARE_SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bare-server.mjs');

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

const parseOptions = (argv) =>
  parseArgs(argv, {
    usage: USAGE,
    defaults: {
      duration: 5,
      warmup: 1,
      connections: 64,
      postgresUrl: DEFAULT_POSTGRES_URL,
      postgres: true,
      build: false,
    },
    flags: {
      '--duration': integer('duration', { min: 1 }),
      '--warmup': integer('warmup', { min: 0 }),
      '--connections': integer('connections', { min: 1 }),
      '--postgres-url': matching(
        'postgresUrl',
        /^postgres(ql)?:\/\//,
        '--postgres-url must start with postgres://.',
      ),
      '--no-postgres': toggle('postgres', false),
      '--build': toggle('build', true),
    },
  });

// ---------------------------------------------------------------------------------------------
// Servers

async function startBare() {
  return startServer({
    name: 'bare Fastify server',
    args: [BARE_SERVER],
    ipc: true,
    ready: (line) => /^listening (\S+)/.exec(line)?.[1],
  });
}

/** Starts the daemon on a fresh temp data dir (and the given database), creates the owner, signs in. */
async function startDaemonWithUser({ name, postgresUrl }) {
  const server = await startDaemon({ name, args: postgresUrl ? ['--postgres-url', postgresUrl] : [] });
  const username = 'bench';
  const { headers } = await signInFirstUser(server.url, { name, username });
  const me = await trpc(server.url, 'GET', 'auth.whoami', { headers });
  if (me?.username !== username)
    throw new Error(`${name}: auth.whoami answered ${JSON.stringify(me)}, not user "${username}".`);
  return { ...server, headers };
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
  return {
    label,
    requestsPerSec: result.requests.average,
    total2xx: result['2xx'],
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    non2xx: result.non2xx,
    errors: result.errors, // includes timeouts
    statusCodeStats: result.statusCodeStats,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const fmtMs = (n) => (Number.isFinite(n) ? `${n.toFixed(2)} ms` : 'n/a');

function table(rows, baseline) {
  const vsBare = (ratio) => (row) => (baseline ? fmtRatio(ratio(row)) : 'n/a');
  return formatTable(
    [
      { header: 'target', cell: (r) => r.label },
      { header: 'req/s', right: true, cell: (r) => fmtInt(r.requestsPerSec) },
      { header: 'p50', right: true, cell: (r) => fmtMs(r.p50) },
      { header: 'p99', right: true, cell: (r) => fmtMs(r.p99) },
      { header: 'non-2xx', right: true, cell: (r) => fmtInt(r.non2xx) },
      { header: 'errors', right: true, cell: (r) => fmtInt(r.errors) },
      {
        header: 'req/s vs bare',
        right: true,
        cell: vsBare((r) => r.requestsPerSec / baseline.requestsPerSec),
      },
      { header: 'p99 vs bare', right: true, cell: vsBare((r) => r.p99 / baseline.p99) },
    ],
    rows,
  );
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const loadBefore = loadAverage();
  ensureBuilt({ name: 'daemon', dir: DAEMON_DIR, bundle: DAEMON_BIN }, options.build);

  const rows = [];
  const notes = [];
  const failures = [];
  const bench = async (label, start) => {
    const server = await start();
    let died;
    server.died.catch((error) => {
      died = error;
    });
    let row;
    try {
      row = await measure(label, server, options);
    } finally {
      await server.stop();
    }
    if (died) throw died;
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

  process.stdout.write(
    `\nAPI benchmark: ${options.connections} connections, ${options.duration} s measured after ${options.warmup} s warm-up per target\n` +
      `${machineLine()}, load generator (autocannon) in this process\n` +
      `${loadLine(loadBefore)}\n\n` +
      `${table(rows, baseline)}\n`,
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

await runBench({ name: 'bench:api', usage: USAGE }, main);
