#!/usr/bin/env node
// AI gateway benchmark: what the gateway adds on top of a model provider, against a local fake
// upstream (apps/daemon/test/ai/FakeModelProvider.ts), directly, through the gateway and, for
// reference, through a bare Node proxy (bare-proxy.mjs), in one run: (a) one request at a time,
// (b) an open-loop streaming load, then usage accounting and the memory of an open stream.
// Run from the repository root: `pnpm bench:gateway`. See bench/README.md for what the rows mean.
// Progress goes to stderr, the tables to stdout.
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { integer, matching, parseArgs, toggle } from '../lib/args.mjs';
import { bundleTypeScript } from '../lib/bundle.mjs';
import { runBench, throwIfInterrupted } from '../lib/cleanup.mjs';
import {
  DAEMON_BIN,
  DAEMON_DIR,
  ensureBuilt,
  signInFirstUser,
  startDaemon,
  startServer,
  trpc,
} from '../lib/daemon.mjs';
import { keepAliveAgent, requestTarget, timedRequest } from '../lib/http.mjs';
import { log } from '../lib/log.mjs';
import { openLoopInChild } from '../lib/openLoop.mjs';
import { createThrowawayDatabase, DEFAULT_POSTGRES_URL } from '../lib/postgres.mjs';
import { cpuSecondsOf, machineCpuSeconds, memoryOf } from '../lib/proc.mjs';
import { formatTable, loadAverage, loadLine, machineLine } from '../lib/report.mjs';
import { median, percentile } from '../lib/stats.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FAKE_SERVER = path.join(HERE, 'fake-upstream.mjs');
const BARE_PROXY = path.join(HERE, 'bare-proxy.mjs');
const FAKE_SOURCE = path.join(DAEMON_DIR, 'test', 'ai', 'FakeModelProvider.ts');
const GATEWAY_PATH = '/api/v2/aigateway/openai/v1/chat/completions';
const OVERHEAD_HEADER = 'x-warren-gateway-overhead-ms';
const MODEL = 'gpt-4.1-mini';
/** What a complete chat completion stream ends with. */
const STREAM_END = 'data: [DONE]\n\n';
/** The output tokens the fake reports for every reply (bench/gateway/fake-upstream.mjs). */
const SCRIPTED_OUTPUT_TOKENS = 9;

/** Other work on the machine above this share of all CPUs during a row earns a warning. */
const OTHER_WORK_WARNING = 0.1;

/** The targets from the issue, in milliseconds. */
const TARGETS = { aP50: 0.4, aP99: 1, bP50: 1, bP99: 5 };

// ---------------------------------------------------------------------------------------------
// Options

const USAGE = `Usage: pnpm bench:gateway [-- options]

  (a) one request at a time
  --requests N         measured requests per kind (JSON, stream) and path (default 2000)
  --warmup-requests N  discarded requests before them (default 10000: until V8 has optimised
                       the code of the fake, the client and the server, and stopped
                       re-optimising it; the first 50 are reported apart as the cold start)

  (b) open-loop streaming load
  --rate N             requests per second (default 2000)
  --duration N         seconds measured per path (default 30)
  --warmup N           seconds of discarded load before each measurement (default 3)
  --connections N      clients, each with one keep-alive connection (default 64)
  --streams N          streams held open to measure memory per open stream (default 1000; 0 skips)

  --quick              a short smoke run: 200 requests after 200, 500 req/s for 5 s after 1 s,
                       200 streams
                       (options given explicitly still win)
  --postgres-url URL   admin connection for the PostgreSQL row of (a)
                       (default $WARREN_BENCH_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --no-postgres        skip the PostgreSQL row of (a)
  --no-bare-proxy      skip the bare-proxy reference rows
  --cpu-prof DIR       run the daemon under node --cpu-prof, writing its profile into DIR
  --daemon-node-options "OPTS"
                       more options for the main daemon's node, space-separated
                       (e.g. "--import ./bench/lib/loop-probe.mjs", paths from the repo root)
  --build              rebuild apps/daemon/dist/warren.mjs first (it is built anyway when missing)
  -h, --help           show this help
`;

const FULL = { requests: 2000, warmupRequests: 10_000, rate: 2000, duration: 30, warmup: 3, streams: 1000 };
const QUICK = { requests: 200, warmupRequests: 200, rate: 500, duration: 5, warmup: 1, streams: 200 };
/** The first rounds a server answers, reported apart: its code still runs unoptimised. */
const COLD_ROUNDS = 50;

function parseOptions(argv) {
  const quick = argv.includes('--quick');
  return parseArgs(argv, {
    usage: USAGE,
    defaults: {
      ...(quick ? QUICK : FULL),
      connections: 64,
      quick,
      postgresUrl: DEFAULT_POSTGRES_URL,
      postgres: true,
      bareProxy: true,
      cpuProf: undefined,
      daemonNodeOptions: '',
      build: false,
    },
    flags: {
      '--requests': integer('requests', { min: 1 }),
      '--warmup-requests': integer('warmupRequests', { min: 0 }),
      '--rate': integer('rate', { min: 1 }),
      '--duration': integer('duration', { min: 1 }),
      '--warmup': integer('warmup', { min: 0 }),
      '--connections': integer('connections', { min: 1 }),
      '--streams': integer('streams', { min: 0, max: 10_000 }),
      '--quick': toggle('quick', true),
      '--postgres-url': matching(
        'postgresUrl',
        /^postgres(ql)?:\/\//,
        '--postgres-url must start with postgres://.',
      ),
      '--no-postgres': toggle('postgres', false),
      '--no-bare-proxy': toggle('bareProxy', false),
      '--cpu-prof': matching('cpuProf', /./, '--cpu-prof needs a directory.'),
      '--daemon-node-options': matching(
        'daemonNodeOptions',
        /^\s*-/,
        '--daemon-node-options needs node options, such as "--max-semi-space-size=64".',
      ),
      '--build': toggle('build', true),
    },
  });
}

// ---------------------------------------------------------------------------------------------
// The fake upstream and the daemon

/** Bundles FakeModelProvider.ts with the repository's esbuild into a temp dir; returns the file. */
function bundleFake() {
  return bundleTypeScript(FAKE_SOURCE, { prefix: 'warren-bench-fake-', name: 'fake.mjs' }).file;
}

async function startFake(bundle) {
  const server = await startServer({
    name: 'fake upstream',
    args: [FAKE_SERVER, bundle],
    ipc: true,
    ready: (line) => /^listening (\S+ \S+)/.exec(line)?.[1],
  });
  const [url, key] = server.url.split(' ');
  return { ...server, url, key };
}

async function startBareProxy(fake) {
  const server = await startServer({
    name: 'bare proxy',
    args: [BARE_PROXY, `${fake.url}/v1`, fake.key],
    ipc: true,
    ready: (line) => /^listening (\S+)/.exec(line)?.[1],
  });
  return {
    ...server,
    target: requestTarget(`${server.url}/openai/v1/chat/completions`),
    headers: { authorization: 'Bearer not-checked', 'content-type': 'application/json' },
    check: watch(server),
  };
}

/** Watches a server: `check()` throws its error once it has died. */
function watch(server) {
  let died;
  server.died.catch((error) => {
    died = error;
  });
  return () => {
    if (died) throw died;
  };
}

const chatBody = (streaming, content = 'Say hello to the benchmark.') =>
  JSON.stringify({
    model: MODEL,
    messages: [{ role: 'user', content }],
    max_tokens: 32,
    // Asked for by the client on both paths, so the upstream's bytes are the same either way.
    ...(streaming ? { stream: true, stream_options: { include_usage: true } } : {}),
  });

/**
 * A daemon on a fresh data dir whose gateway fronts the fake: an OpenAI provider with the fake's
 * key, one priced model, and a Warren API token. Checks one call through the gateway end to end.
 */
async function startGatewayDaemon({ name, fake, postgresUrl, nodeArgs }) {
  const server = await startDaemon({
    name,
    args: postgresUrl ? ['--postgres-url', postgresUrl] : [],
    nodeArgs,
  });
  const { headers } = await signInFirstUser(server.url, { name, username: 'bench' });
  await trpc(server.url, 'POST', 'ai.providers.create', {
    headers,
    input: { name: 'openai', kind: 'openai', baseUrl: `${fake.url}/v1`, apiKey: fake.key },
  });
  await trpc(server.url, 'POST', 'ai.models.upsert', {
    headers,
    input: { provider: 'openai', name: MODEL, inputPrice: 0.4, outputPrice: 1.6 },
  });
  const newToken = async (tokenName) => {
    const created = await trpc(server.url, 'POST', 'tokens.create', { headers, input: { name: tokenName } });
    return {
      id: created.id,
      headers: { authorization: `Bearer ${created.token}`, 'content-type': 'application/json' },
    };
  };
  const token = await newToken('bench-gateway');

  // A daemon built before the gateway answers its routes with Fastify's 404.
  const models = await fetch(`${server.url}/api/v2/aigateway/openai/v1/models`, {
    headers: token.headers,
    signal: AbortSignal.timeout(10_000),
  });
  if (models.status === 404) {
    throw new Error(
      `${name}: the AI gateway is not mounted (GET /api/v2/aigateway/openai/v1/models answered 404). ` +
        'Is apps/daemon/dist/warren.mjs older than the gateway? Pass --build.',
    );
  }

  // One call end to end; the directory of providers may take a moment to pick up the new ones.
  const target = requestTarget(`${server.url}${GATEWAY_PATH}`);
  const agent = keepAliveAgent(1);
  let last;
  for (let attempt = 0; attempt < 50; attempt++) {
    last = await timedRequest({ agent, target, headers: token.headers, body: chatBody(true), tailBytes: 64 });
    if (last.status === 200 && last.tail.endsWith(STREAM_END)) break;
    await sleep(100);
  }
  agent.destroy();
  if (last.status !== 200 || !last.tail.endsWith(STREAM_END)) {
    throw new Error(
      `${name}: a streamed call through the gateway answered ${last.status || last.error} (${JSON.stringify(last.tail)}).`,
    );
  }
  return { ...server, headers, token, newToken, target, check: watch(server) };
}

// ---------------------------------------------------------------------------------------------
// (a) One request at a time

const KINDS = [
  { key: 'json', label: 'chat, JSON', streaming: false },
  { key: 'stream', label: 'chat, stream', streaming: true },
];

const sortedOf = (values) => Float64Array.from(values).sort();

/**
 * `requests` calls of each kind straight to the upstream and `via` the server under test (its
 * `target`, `headers`, `pid`), one at a time, alternating which path goes first so drift on the
 * machine hits both alike, after `warmupRequests` rounds that are not counted: the fake, this
 * client and the server each run their code unoptimised at first (a gateway that has just
 * started adds several times what it adds once warm). Times from just before the request is
 * made: TTFB to the first body byte, total to the end of the body. Also the server's CPU time
 * per measured request, and `cold`: the added p50 total over the first rounds of the first kind.
 */
async function sequential({ label, direct, via, options }) {
  const results = {};
  const ours = () => cpuSecondsOf(via.pid) + (direct.pid ? cpuSecondsOf(direct.pid) : 0);
  const oursBefore = ours();
  const window = machineWindow();
  for (const kind of KINDS) {
    throwIfInterrupted();
    log(`(a) ${label}, ${kind.label}: ${options.warmupRequests} + ${options.requests} requests per path...`);
    const body = chatBody(kind.streaming);
    const paths = {
      direct: { ...direct, agent: keepAliveAgent(1), ttfb: [], total: [], overhead: [], cold: [] },
      via: { ...via, agent: keepAliveAgent(1), ttfb: [], total: [], overhead: [], cold: [] },
    };
    const coldRounds = kind === KINDS[0] ? Math.min(COLD_ROUNDS, options.warmupRequests) : 0;
    const one = async (name, round) => {
      const p = paths[name];
      const start = performance.now();
      const r = await timedRequest({
        agent: p.agent,
        target: p.target,
        headers: p.headers,
        body,
        tailBytes: 16,
      });
      const complete = kind.streaming ? r.tail.endsWith(STREAM_END) : r.bytes > 0;
      if (r.error || r.status !== 200 || !complete) {
        throw new Error(
          `(a) ${label}, ${kind.label}, ${name}: a request failed (${r.error ?? `HTTP ${r.status}`}, body ending ${JSON.stringify(r.tail)}).`,
        );
      }
      if (round < coldRounds) p.cold.push(r.endAt - start);
      if (round < options.warmupRequests) return;
      p.ttfb.push(r.firstByteAt - start);
      p.total.push(r.endAt - start);
      const overhead = Number(r.headers[OVERHEAD_HEADER]);
      if (Number.isFinite(overhead)) p.overhead.push(overhead);
    };
    let cpuBefore;
    for (let i = 0; i < options.warmupRequests + options.requests; i++) {
      if (i === options.warmupRequests) cpuBefore = cpuSecondsOf(via.pid);
      for (const name of i % 2 ? ['via', 'direct'] : ['direct', 'via']) await one(name, i);
    }
    if (coldRounds) {
      results.cold = { rounds: coldRounds, added: median(paths.via.cold) - median(paths.direct.cold) };
    }
    const cpuPerRequest = ((cpuSecondsOf(via.pid) - cpuBefore) * 1000) / options.requests;
    via.check();
    for (const p of Object.values(paths)) p.agent.destroy();
    const summary = (p) => {
      const ttfb = sortedOf(p.ttfb);
      const total = sortedOf(p.total);
      return {
        ttfbP50: percentile(ttfb, 50),
        ttfbP99: percentile(ttfb, 99),
        totalP50: percentile(total, 50),
        totalP99: percentile(total, 99),
        overheadP50: p.overhead.length ? median(p.overhead) : Number.NaN,
      };
    };
    results[kind.key] = {
      direct: summary(paths.direct),
      via: { ...summary(paths.via), cpuPerRequest },
    };
  }
  return { label, results, machine: window.end(ours() - oursBefore) };
}

// ---------------------------------------------------------------------------------------------
// (b) Open-loop streaming load

/**
 * A window over which to tell how busy the machine was with work other than ours: `end(ours)`,
 * given the CPU seconds our own processes used meanwhile, answers { busyShare, othersShare } as
 * shares of all CPUs.
 */
function machineWindow() {
  const before = machineCpuSeconds();
  const at = performance.now();
  const self = process.cpuUsage();
  return {
    end(ours) {
      const busy = machineCpuSeconds().busy - before.busy;
      const mine = process.cpuUsage(self);
      const capacity = ((performance.now() - at) / 1000) * os.cpus().length;
      const others = busy - ours - (mine.user + mine.system) / 1e6;
      return { busyShare: busy / capacity, othersShare: Math.max(0, others) / capacity };
    },
  };
}

/**
 * One path under the open loop, with the CPU time of `pids` ({ name: pid }) over the measured
 * window and their memory at its end. Warm-up requests carry `warmupHeaders`.
 */
async function openLoopRun({ label, target, headers, warmupHeaders, options, pids }) {
  throwIfInterrupted();
  log(
    `(b) ${label}: ${options.rate} req/s over ${options.connections} connections, ${options.warmup} s warm-up + ${options.duration} s measured...`,
  );
  const cpuNow = () =>
    Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSecondsOf(pid)]));
  let cpuBefore = cpuNow();
  let window = machineWindow();
  const result = await openLoopInChild(
    {
      url: `http://${target.hostname}:${target.port}${target.path}`,
      headers,
      warmupHeaders,
      body: chatBody(true),
      rate: options.rate,
      durationS: options.duration,
      warmupS: options.warmup,
      connections: options.connections,
      expectTail: STREAM_END,
      recordHeader: OVERHEAD_HEADER,
    },
    {
      onMeasure: () => {
        cpuBefore = cpuNow();
        window = machineWindow();
      },
    },
  );
  const cpuAfter = cpuNow();
  const cpu = Object.fromEntries(Object.keys(pids).map((name) => [name, cpuAfter[name] - cpuBefore[name]]));
  const machine = window.end(Object.values(cpu).reduce((sum, s) => sum + s, result.generatorCpuSeconds));
  const memory = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, memoryOf(pid)]));
  return {
    label,
    ...result,
    p50: percentile(result.latencies, 50),
    p99: percentile(result.latencies, 99),
    ttfbP50: percentile(result.ttfbs, 50),
    ttfbP99: percentile(result.ttfbs, 99),
    overheadP50: percentile(result.headerValues, 50),
    overheadP99: percentile(result.headerValues, 99),
    cpu,
    machine,
    memory,
    failed: result.errors + result.non2xx + result.incomplete,
  };
}

/** The gateway_interceptions rows of one API key, straight from the daemon's SQLite file. */
function interceptionCounts(dataDir, apiKeyId) {
  const Database = createRequire(path.join(DAEMON_DIR, 'package.json'))('better-sqlite3');
  const db = new Database(path.join(dataDir, 'warren.db'), { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare(
        `SELECT count(*) AS rows,
                coalesce(sum(status = 200 AND streaming = 1 AND output_tokens > 0), 0) AS counted,
                coalesce(sum(status = 200 AND streaming = 1 AND output_tokens = ${SCRIPTED_OUTPUT_TOKENS}), 0) AS exact
           FROM gateway_interceptions WHERE api_key_id = ?`,
      )
      .get(apiKeyId);
  } finally {
    db.close();
  }
}

/** Waits until the rows of `apiKeyId` stop growing (they are written in batches after each call). */
async function settledCounts(dataDir, apiKeyId, expected) {
  let counts = interceptionCounts(dataDir, apiKeyId);
  let stableSince = performance.now();
  const deadline = performance.now() + 20_000;
  while (performance.now() < deadline) {
    if (counts.rows >= expected && performance.now() - stableSince > 300) break;
    if (performance.now() - stableSince > 3_000) break;
    await sleep(100);
    const next = interceptionCounts(dataDir, apiKeyId);
    if (next.rows !== counts.rows) stableSince = performance.now();
    counts = next;
  }
  return counts;
}

/**
 * Memory per open stream: `count` streams opened through `server` in four steps (the fake sends
 * two events of each, then holds it open), the server's RSS read after each step; the answer is
 * the slope of RSS over open streams (least squares through the five points, the first with none
 * open), so one garbage collection in between moves it less than a single before/after would.
 */
async function memoryPerStream({ server, count, steps = 4 }) {
  throwIfInterrupted();
  log(`memory: opening ${count} streams through the gateway in ${steps} steps and holding them...`);
  const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  const requests = [];
  const body = Buffer.from(chatBody(true, 'hang'));
  const openOne = () =>
    new Promise((resolve, reject) => {
      const req = http.request(
        { agent, ...server.target, method: 'POST', headers: server.headers },
        (res) => {
          if (res.statusCode !== 200) reject(new Error(`a held stream answered HTTP ${res.statusCode}`));
          res.once('data', () => resolve());
          res.on('error', () => {});
        },
      );
      req.on('error', (error) => reject(error));
      requests.push(req);
      req.end(body);
    });
  let timer;
  try {
    await sleep(500);
    const points = [[0, memoryOf(server.pid).rss]];
    for (let step = 1; step <= steps; step++) {
      const batch = [];
      while (requests.length < Math.round((count * step) / steps)) batch.push(openOne());
      await Promise.race([
        Promise.all(batch),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`${batch.length} streams were not all open after 30 s`)),
            30_000,
          );
        }),
      ]);
      clearTimeout(timer);
      await sleep(500);
      points.push([requests.length, memoryOf(server.pid).rss]);
    }
    const n = points.length;
    const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
    const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
    const slope =
      points.reduce((sum, [x, y]) => sum + (x - mx) * (y - my), 0) /
      points.reduce((sum, [x]) => sum + (x - mx) ** 2, 0);
    return { count, before: points[0][1], after: points[n - 1][1], perStream: slope };
  } finally {
    clearTimeout(timer);
    for (const req of requests) req.destroy();
    agent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const fmtMs = (n, sign = false) =>
  Number.isFinite(n)
    ? `${sign && n >= 0 ? '+' : ''}${n.toFixed(n !== 0 && Math.abs(n) < 10 ? 3 : Math.abs(n) < 100 ? 2 : 1)} ms`
    : 'n/a';
const fmtMiB = (bytes) => (Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(0)} MiB` : 'n/a');
const fmtKiB = (bytes) => (Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(1)} KiB` : 'n/a');
const passMiss = (ok) => (ok ? 'PASS' : 'MISS');
const pct = (share) => (Number.isFinite(share) ? `${(100 * share).toFixed(0)} %` : 'n/a');
const added = (via, direct, keys) => Object.fromEntries(keys.map((k) => [k, via[k] - direct[k]]));

function sequentialTable(runs) {
  const rows = [];
  for (const run of runs) {
    for (const kind of KINDS) {
      const { direct, via } = run.results[kind.key];
      rows.push({ request: kind.label, path: 'direct to upstream', ...direct, overheadP50: Number.NaN });
      rows.push({ request: '', path: run.label, ...via });
      rows.push({
        request: '',
        path: 'added',
        added: true,
        ...added(via, direct, ['ttfbP50', 'ttfbP99', 'totalP50', 'totalP99']),
      });
    }
  }
  const ms = (key) => (r) => fmtMs(r[key], r.added);
  return formatTable(
    [
      { header: 'request', cell: (r) => r.request },
      { header: 'path', cell: (r) => r.path },
      { header: 'TTFB p50', right: true, cell: ms('ttfbP50') },
      { header: 'TTFB p99', right: true, cell: ms('ttfbP99') },
      { header: 'total p50', right: true, cell: ms('totalP50') },
      { header: 'total p99', right: true, cell: ms('totalP99') },
      {
        header: 'server CPU/request',
        right: true,
        cell: (r) => (Number.isFinite(r.cpuPerRequest) ? fmtMs(r.cpuPerRequest) : ''),
      },
      {
        header: 'overhead header p50',
        right: true,
        cell: (r) => (Number.isFinite(r.overheadP50) ? fmtMs(r.overheadP50) : ''),
      },
    ],
    rows,
  );
}

function loadTable(load, options) {
  const keys = ['p50', 'p99', 'ttfbP50', 'ttfbP99'];
  const rows = [{ ...load.direct, path: 'direct to upstream' }];
  for (const r of [load.bare, load.gateway]) {
    if (!r) continue;
    rows.push({ ...r, path: r.label }, { path: 'added', added: true, ...added(r, load.direct, keys) });
  }
  const num = (key) => (r) => (r.added ? '' : fmtInt(r[key]));
  const ms = (key) => (r) => fmtMs(r[key], r.added);
  return formatTable(
    [
      { header: 'path', cell: (r) => r.path },
      { header: 'sent req/s', right: true, cell: (r) => (r.added ? '' : fmtInt(r.achievedRate)) },
      { header: 'ok', right: true, cell: num('ok') },
      { header: 'non-2xx', right: true, cell: num('non2xx') },
      { header: 'errors', right: true, cell: num('errors') },
      { header: 'cut', right: true, cell: num('incomplete') },
      { header: 'p50', right: true, cell: ms('p50') },
      { header: 'p99', right: true, cell: ms('p99') },
      { header: 'TTFB p50', right: true, cell: ms('ttfbP50') },
      { header: 'TTFB p99', right: true, cell: ms('ttfbP99') },
      {
        header: 'server CPU',
        right: true,
        cell: (r) =>
          r.cpu?.server === undefined
            ? ''
            : `${r.cpu.server.toFixed(1)} s (${((100 * r.cpu.server) / options.duration).toFixed(0)} %)`,
      },
      {
        header: 'server peak RSS',
        right: true,
        cell: (r) => (r.memory?.server ? fmtMiB(r.memory.server.hwm) : ''),
      },
    ],
    rows,
  );
}

/** What each server added while it was cold: over its first JSON rounds, part of the warm-up. */
function coldLine(runs) {
  const measured = runs.filter((run) => run.results.cold);
  if (!measured.length) return 'cold start: not measured (--warmup-requests 0).';
  const { rounds } = measured[0].results.cold;
  const each = measured.map((run) => `${run.label} ${fmtMs(run.results.cold.added, true)}`);
  return `cold start, not in the rows above (each server's first ${rounds} JSON rounds, before V8 optimised its code): added p50 total ${each.join(', ')}`;
}

/** The worst added value among TTFB and total for both kinds: [value, 'which']. */
function worstAdded(run, percentileKey) {
  let worst = [Number.NEGATIVE_INFINITY, ''];
  for (const kind of KINDS) {
    const { direct, via } = run.results[kind.key];
    for (const what of ['ttfb', 'total']) {
      const key = `${what}${percentileKey}`;
      const value = via[key] - direct[key];
      if (value > worst[0]) worst = [value, `${kind.key} ${what === 'ttfb' ? 'TTFB' : 'total'}`];
    }
  }
  return worst;
}

function targetTable({ runs, bareRun, load, usage, options }) {
  const rows = [];
  const fmtWorst = ([value, which]) => `${fmtMs(value, true)} (${which})`;
  for (const run of runs) {
    for (const [p, limit] of [
      ['P50', TARGETS.aP50],
      ['P99', TARGETS.aP99],
    ]) {
      const worst = worstAdded(run, p);
      rows.push({
        target: `(a) added ${p.toLowerCase()}, ${run.label} (worst of TTFB/total, JSON/stream)`,
        limit: `< ${limit} ms`,
        measured: fmtWorst(worst),
        result: passMiss(worst[0] < limit),
        bare: bareRun ? fmtWorst(worstAdded(bareRun, p)) : '',
      });
    }
  }
  const { direct, gateway, bare } = load;
  for (const [p, key, limit] of [
    ['p50', 'p50', TARGETS.bP50],
    ['p99', 'p99', TARGETS.bP99],
  ]) {
    const value = gateway[key] - direct[key];
    rows.push({
      target: `(b) added ${p} (end of stream, from due time)`,
      limit: `< ${limit} ms`,
      measured: fmtMs(value, true),
      result: passMiss(value < limit),
      bare: bare ? fmtMs(bare[key] - direct[key], true) : '',
    });
  }
  rows.push({
    target: '(b) errors (errors + non-2xx + cut streams)',
    limit: '0',
    measured: fmtInt(gateway.failed),
    result: passMiss(gateway.failed === 0),
    bare: bare ? fmtInt(bare.failed) : '',
  });
  const runsB = [direct, bare, gateway].filter(Boolean);
  rows.push({
    target: '(b) load generator sent at the target rate',
    limit: `>= ${fmtInt(0.99 * options.rate)} req/s`,
    measured: fmtInt(gateway.achievedRate),
    result: runsB.every((r) => r.achievedRate >= 0.99 * r.rate) ? 'ok' : 'NOT MET',
    bare: bare ? fmtInt(bare.achievedRate) : '',
  });
  rows.push({
    target: 'usage counted for streamed requests',
    limit: '100 %',
    measured: `${fmtInt(usage.counted)} of ${fmtInt(usage.streamed)} (${((100 * usage.counted) / usage.streamed).toFixed(2)} %)`,
    result: passMiss(usage.counted === usage.streamed && usage.streamed > 0),
    bare: '',
  });
  return formatTable(
    [
      { header: 'target', cell: (r) => r.target },
      { header: 'limit', right: true, cell: (r) => r.limit },
      { header: 'gateway', right: true, cell: (r) => r.measured },
      { header: 'result', cell: (r) => r.result },
      ...(bareRun || bare ? [{ header: 'bare proxy (reference)', right: true, cell: (r) => r.bare }] : []),
    ],
    rows,
  );
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const loadBefore = loadAverage();
  ensureBuilt({ name: 'daemon', dir: DAEMON_DIR, bundle: DAEMON_BIN }, options.build);
  const nodeArgs = [
    ...(options.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(options.cpuProf)] : []),
    ...options.daemonNodeOptions.split(/\s+/).filter(Boolean),
  ];
  const notes = [];

  log('bundling the fake upstream...');
  const fake = await startFake(bundleFake());
  const checkFake = watch(fake);
  const direct = {
    target: requestTarget(`${fake.url}/v1/chat/completions`),
    headers: { authorization: `Bearer ${fake.key}`, 'content-type': 'application/json' },
    pid: fake.pid,
  };
  const viaDaemon = (d) => ({
    target: d.target,
    headers: d.token.headers,
    pid: d.pid,
    check: () => {
      checkFake();
      d.check();
    },
  });

  log('starting the daemon (SQLite)...');
  const daemon = await startGatewayDaemon({ name: 'daemon (SQLite)', fake, nodeArgs });

  // (a): the gateway on SQLite, then on PostgreSQL (a daemon of its own, stopped before (b)),
  // then the bare proxy.
  const runs = [await sequential({ label: 'gateway, SQLite', direct, via: viaDaemon(daemon), options })];
  if (!options.postgres) {
    notes.push('(a) gateway, PostgreSQL: skipped (--no-postgres).');
  } else {
    const database = await createThrowawayDatabase(options.postgresUrl);
    if (database.skipped) {
      log(`(a) gateway, PostgreSQL: skipped: ${database.skipped}`);
      notes.push(`(a) gateway, PostgreSQL: skipped: ${database.skipped}`);
    } else {
      log(`starting the daemon (PostgreSQL, database ${database.name})...`);
      const pgDaemon = await startGatewayDaemon({
        name: 'daemon (PostgreSQL)',
        fake,
        postgresUrl: database.url,
      });
      try {
        runs.push(
          await sequential({ label: 'gateway, PostgreSQL', direct, via: viaDaemon(pgDaemon), options }),
        );
      } finally {
        await pgDaemon.stop();
        await database.drop();
      }
    }
  }
  let bareProxy;
  let bareRun;
  if (options.bareProxy) {
    log('starting the bare proxy...');
    bareProxy = await startBareProxy(fake);
    bareRun = await sequential({ label: 'bare proxy', direct, via: bareProxy, options });
  }

  // (b): the same load straight to the fake, through the bare proxy, then through the gateway.
  // The gateway's measured requests carry a token of their own, so its interception rows are
  // exactly theirs.
  const load = {};
  load.direct = await openLoopRun({ label: 'direct', ...direct, options, pids: { fake: fake.pid } });
  checkFake();
  if (bareProxy) {
    load.bare = await openLoopRun({
      label: 'bare proxy',
      ...bareProxy,
      options,
      pids: { fake: fake.pid, server: bareProxy.pid },
    });
    bareProxy.check();
    await bareProxy.stop();
  }
  const loadToken = await daemon.newToken('bench-gateway-load');
  load.gateway = await openLoopRun({
    label: 'gateway, SQLite',
    target: daemon.target,
    headers: loadToken.headers,
    warmupHeaders: daemon.token.headers,
    options,
    pids: { fake: fake.pid, server: daemon.pid },
  });
  viaDaemon(daemon).check();

  log('usage: waiting for the interception rows...');
  const counts = await settledCounts(daemon.dir, loadToken.id, load.gateway.scheduled);
  const usage = {
    streamed: load.gateway.ok,
    counted: counts.counted,
    exact: counts.exact,
    rows: counts.rows,
  };

  await daemon.stop();

  // Memory on a daemon of its own, fresh: after the load, the first daemon's heap has room to
  // spare that new streams would fill without growing its RSS.
  let memory;
  if (options.streams > 0) {
    // A fresh daemon sometimes still holds its start-up garbage at the first reading and
    // collects it while the streams open: its RSS then falls, which says nothing about streams.
    // Such a measurement is repeated on another fresh daemon (twice at most).
    for (let attempt = 1; attempt <= 3; attempt++) {
      log('starting a fresh daemon (SQLite) for the memory measurement...');
      const fresh = await startGatewayDaemon({ name: 'daemon (memory)', fake });
      memory = await memoryPerStream({ server: viaDaemon(fresh), count: options.streams });
      viaDaemon(fresh).check();
      await fresh.stop();
      if (memory.perStream > 0) break;
      log(
        `memory: the daemon's RSS fell from ${fmtMiB(memory.before)} to ${fmtMiB(memory.after)} while streams opened; measuring again`,
      );
    }
  }

  // ------------------------------------------------------------------------------------------
  const sequentialRuns = bareRun ? [...runs, bareRun] : runs;
  const out = [
    '',
    `AI gateway benchmark${options.quick ? ' (--quick)' : ''}: OpenAI chat completions to a local fake upstream, direct and through the gateway${bareProxy ? ' (and a bare Node proxy for reference)' : ''}`,
    `${machineLine()}; fake upstream, daemon${bareProxy ? ', bare proxy' : ''} and load generator each in a process of their own`,
    loadLine(loadBefore),
    '',
    `(a) one request at a time: ${options.requests} measured requests per row after ${options.warmupRequests} warm-up, direct and the server under test alternating`,
    '',
    sequentialTable(sequentialRuns),
    coldLine(sequentialRuns),
    `machine busy: ${sequentialRuns.map((r) => `${r.label} ${pct(r.machine.busyShare)} (${pct(r.machine.othersShare)} by other work)`).join(', ')}`,
    '',
    `(b) open loop: ${fmtInt(options.rate)} streamed chat completions/s for ${options.duration} s over ${options.connections} keep-alive connections, after ${options.warmup} s warm-up; latency from each request's due time`,
    '',
    loadTable(load, options),
    '',
  ];
  const lagNote = (r) =>
    `${r.label}: sent ${fmtInt(r.achievedRate)} req/s (send lag p50 ${fmtMs(r.sendLag.p50)}, p99 ${fmtMs(r.sendLag.p99)}), at most ${fmtInt(r.maxInFlight)} in flight; CPU: load generator ${r.generatorCpuSeconds.toFixed(1)} s, fake upstream ${r.cpu.fake.toFixed(1)} s; machine ${pct(r.machine.busyShare)} busy, ${pct(r.machine.othersShare)} by other work`;
  for (const r of [load.direct, load.bare, load.gateway]) if (r) out.push(lagNote(r));
  const g = load.gateway;
  out.push(
    `gateway: X-Warren-Gateway-Overhead-Ms p50 ${fmtMs(g.overheadP50)}, p99 ${fmtMs(g.overheadP99)}; daemon CPU per stream ${fmtMs((1000 * g.cpu.server) / g.ok)}` +
      (load.bare ? `, bare proxy's ${fmtMs((1000 * load.bare.cpu.server) / load.bare.ok)}` : ''),
  );
  const contended = [...runs, bareRun, load.direct, load.bare, g].filter(
    (r) => r && r.machine.othersShare > OTHER_WORK_WARNING,
  );
  if (contended.length) {
    out.push(
      `WARNING: other processes used more than ${pct(OTHER_WORK_WARNING)} of the machine during ${contended.map((r) => `${r.label}${r.latencies ? ' (b)' : ' (a)'}`).join(', ')}; those rows measure contention as much as the gateway. Rerun on a quiet machine.`,
    );
  }
  if ([load.direct, load.bare, g].some((r) => r && r.achievedRate < 0.99 * r.rate)) {
    out.push(
      `NOTE: the load generator could not send at ${fmtInt(options.rate)} req/s on this machine; the (b) rows are for the rate it reached.`,
    );
  }
  for (const r of [load.direct, load.bare, g]) {
    if (r?.failed) {
      out.push(
        `${r.label}: status codes ${JSON.stringify(r.statusCodes)}, errors ${JSON.stringify(r.errorCodes)}, ${r.incomplete} streams cut`,
      );
    }
  }
  out.push(
    '',
    `usage counted for ${fmtInt(usage.counted)} of ${fmtInt(usage.streamed)} streamed requests (${((100 * usage.counted) / usage.streamed).toFixed(2)}%)` +
      ` [gateway_interceptions rows of the measured window: ${fmtInt(usage.rows)}; with exactly the scripted ${SCRIPTED_OUTPUT_TOKENS} output tokens: ${fmtInt(usage.exact)}]`,
    memory
      ? `memory per open stream: ${fmtKiB(memory.perStream)} (a fresh daemon's RSS ${fmtMiB(memory.before)} -> ${fmtMiB(memory.after)} with ${fmtInt(memory.count)} streams held open through its gateway)`
      : 'memory per open stream: skipped (--streams 0).',
    '',
    targetTable({ runs, bareRun, load, usage, options }),
  );
  for (const note of notes) out.push('', note);
  process.stdout.write(`${out.join('\n')}\n`);

  if (options.cpuProf) log(`the daemon's CPU profile is in ${path.resolve(options.cpuProf)}`);
  return g.failed > 0 || usage.counted !== usage.streamed ? 1 : 0;
}

await runBench({ name: 'bench:gateway', usage: USAGE }, main);
