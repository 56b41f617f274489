#!/usr/bin/env node
// Provisioning benchmark: how long a workspace takes from workspaces.create until its agent is
// ready, for the local and the Docker provisioner, and how a burst of concurrent local starts
// goes, against spawning a bare agent process as the baseline. Run from the repository root:
// `pnpm bench:provision`. See bench/README.md for what the columns mean. Progress goes to
// stderr, the table to stdout.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const DAEMON_DIR = path.join(ROOT, 'apps', 'daemon');
const DAEMON_BIN = path.join(DAEMON_DIR, 'dist', 'warren.mjs');
const AGENT_DIR = path.join(ROOT, 'apps', 'agent');
const AGENT_BIN = path.join(AGENT_DIR, 'dist', 'warren-agent.mjs');
const DEFAULT_IMAGE = 'warren-test-agent:latest';
const MANAGED_LABEL = 'dev.warren.managed=true';
const OWNER_LABEL = 'dev.warren.owner';

// ---------------------------------------------------------------------------------------------
// Options

const USAGE = `Usage: pnpm bench:provision [-- options]

  --runs N            measured create -> ready runs per single-start row (default 5)
  --warmup N          discarded runs before each single-start row (default 1)
  --concurrent N      local workspaces created at once in the burst row (default 50; 0 skips it)
  --provisioners N    the daemon's --provisioners: builds it runs at once (default 8)
  --docker-image IMG  image for the Docker row (default ${DEFAULT_IMAGE})
  --no-docker         skip the Docker row
  --poll-ms N         milliseconds between status polls (default 20)
  --timeout N         seconds one workspace (or the whole burst) may take to be ready (default 60)
  --build             rebuild the daemon and the agent first (each is built anyway when missing)
  -h, --help          show this help
`;

function parseArgs(argv) {
  const options = {
    runs: 5,
    warmup: 1,
    concurrent: 50,
    provisioners: 8,
    dockerImage: DEFAULT_IMAGE,
    docker: true,
    pollMs: 20,
    timeout: 60,
    build: false,
  };
  const args = argv.filter((a) => a !== '--'); // `pnpm bench:provision -- --runs 3` passes the `--` through
  const number = (flag, value, { min, max = Number.POSITIVE_INFINITY }) => {
    const n = Number(value);
    if (value === undefined || !Number.isInteger(n) || n < min || n > max) {
      throw new UsageError(
        `${flag} needs an integer ${Number.isFinite(max) ? `from ${min} to ${max}` : `>= ${min}`}, got ${value ?? 'nothing'}.`,
      );
    }
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] =
      args[i].startsWith('--') && args[i].includes('=') ? args[i].split(/=(.*)/s) : [args[i]];
    const value = () => (inline !== undefined ? inline : args[++i]);
    switch (flag) {
      case '--runs':
        options.runs = number(flag, value(), { min: 1, max: 100 });
        break;
      case '--warmup':
        options.warmup = number(flag, value(), { min: 0, max: 10 });
        break;
      case '--concurrent':
        options.concurrent = number(flag, value(), { min: 0, max: 1000 });
        break;
      case '--provisioners':
        options.provisioners = number(flag, value(), { min: 1, max: 256 });
        break;
      case '--docker-image':
        options.dockerImage = value();
        if (!/^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/.test(options.dockerImage ?? ''))
          throw new UsageError('--docker-image needs an image reference such as warren-test-agent:latest.');
        break;
      case '--no-docker':
        options.docker = false;
        break;
      case '--poll-ms':
        options.pollMs = number(flag, value(), { min: 1, max: 10_000 });
        break;
      case '--timeout':
        options.timeout = number(flag, value(), { min: 1, max: 3600 });
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

// ---------------------------------------------------------------------------------------------
// Cleanup: everything started is registered here and undone in reverse order, on success, on
// error and on Ctrl-C. Child processes, agents left in a temp dir, Docker objects of the bench
// user and temp dirs are also removed synchronously at exit as a last resort.

const cleanups = [];
const children = new Set();
const tempDirs = new Set();
/** Owners (bench usernames) whose Docker containers and volumes go at exit. */
const dockerOwners = new Set();

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
  for (const dir of tempDirs) killProcessesIn(dir);
  for (const owner of dockerOwners) removeDockerObjects(owner);
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

let interrupted = false;
const throwIfInterrupted = () => {
  if (interrupted) throw new Error('interrupted');
};
/** The signal handler's cleanup; once it is set, the handler owns the exit. */
let interruptCleanup;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (interrupted) process.exit(1); // second Ctrl-C: give up on graceful cleanup
    interrupted = true;
    log(`\n${signal}: stopping and cleaning up...`);
    interruptCleanup = cleanupAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

/**
 * A temp dir, removed at the end (or by `remove`). Before it goes, every process whose working
 * directory is inside it is killed: the local provisioner's agents run detached in their own
 * process groups with their workspace home as cwd, so a daemon that died or a delete that never
 * finished does not leave agents behind.
 */
function makeTempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  const remove = onCleanup(`remove ${dir}`, async () => {
    if (killProcessesIn(dir) > 0) await sleep(200); // let the kernel release their files
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    tempDirs.delete(dir);
  });
  return { dir, remove };
}

/** SIGKILLs every process whose cwd is `dir` or below it (Linux /proc); returns how many. */
function killProcessesIn(dir) {
  let entries;
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return 0; // not Linux: the API deletes are all there is
  }
  let killed = 0;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cwd;
    try {
      cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
    } catch {
      continue;
    }
    if (cwd !== dir && !cwd.startsWith(`${dir}/`)) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
      killed++;
    } catch {}
  }
  return killed;
}

/** Removes the containers and volumes Warren labelled as this bench user's; returns what went. */
function removeDockerObjects(owner) {
  const filters = ['--filter', `label=${MANAGED_LABEL}`, '--filter', `label=${OWNER_LABEL}=${owner}`];
  const ids = (args) => {
    const result = spawnSync('docker', args, { encoding: 'utf8', timeout: 30_000 });
    return result.status === 0 ? result.stdout.split('\n').filter(Boolean) : [];
  };
  const containers = ids(['ps', '-aq', ...filters]);
  if (containers.length)
    spawnSync('docker', ['rm', '-f', '-v', ...containers], { stdio: 'ignore', timeout: 60_000 });
  const volumes = ids(['volume', 'ls', '-q', ...filters]);
  if (volumes.length)
    spawnSync('docker', ['volume', 'rm', '-f', ...volumes], { stdio: 'ignore', timeout: 60_000 });
  return { containers: containers.length, volumes: volumes.length };
}

// ---------------------------------------------------------------------------------------------
// Builds

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      newest = Math.max(newest, fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * The benchmark measures the bundles as built. Each is built here only when it is missing or
 * --build is given; a bundle older than its sources is used with a warning, so a plain run never
 * rewrites files outside bench/ behind anyone's back.
 */
function ensureBuilt({ name, dir, bundle }, forceBuild) {
  const built = fs.existsSync(bundle) ? fs.statSync(bundle).mtimeMs : 0;
  const relative = path.relative(ROOT, bundle);
  if (built && !forceBuild) {
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

// ---------------------------------------------------------------------------------------------
// Baseline: a bare agent process, spawned the way the local provisioner spawns it, timed until
// its first connection attempt reaches a TCP listener standing in for the daemon.

/** The agent's environment as LocalProvisioner builds it, with a made-up token. */
function bareAgentEnv(home, url) {
  const user = os.userInfo();
  return {
    PATH: process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    USER: user.username,
    LOGNAME: user.username,
    SHELL: user.shell ?? '/bin/sh',
    LANG: process.env.LANG || 'C.UTF-8',
    HOME: home,
    WARREN_AGENT_URL: url,
    WARREN_AGENT_TOKEN: 'bench-baseline-not-a-real-token',
    WARREN_AGENT_DIR: home,
  };
}

async function measureBaseline(options) {
  const { dir, remove } = makeTempDir('warren-bench-agent-');
  const server = net.createServer();
  let onConnection = () => {};
  server.on('connection', (socket) => {
    onConnection();
    socket.destroy();
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}`;
  const node = fs.realpathSync(process.execPath);
  const samples = [];
  try {
    for (let i = 0; i < options.warmup + options.runs; i++) {
      throwIfInterrupted();
      const home = path.join(dir, `agent-${i}`);
      fs.mkdirSync(home);
      const logFile = path.join(home, 'agent.log');
      const out = fs.openSync(logFile, 'a', 0o600);
      const connected = new Promise((resolve) => {
        onConnection = () => resolve(performance.now());
      });
      const start = performance.now();
      const child = spawn(node, [AGENT_BIN], {
        detached: true,
        stdio: ['ignore', out, out],
        env: bareAgentEnv(home, url),
        cwd: home,
      });
      children.add(child);
      const exited = new Promise((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      exited.then(() => children.delete(child));
      fs.closeSync(out);
      const spawnError = new Promise((resolve) => child.once('error', (error) => resolve({ error })));
      const timeout = new AbortController();
      const outcome = await Promise.race([
        connected,
        spawnError,
        exited,
        sleep(options.timeout * 1000, 'timeout', { signal: timeout.signal }).catch(() => {}),
      ]);
      timeout.abort();
      if (outcome.error) throw new Error(`Could not start the bare agent: ${outcome.error.message}`);
      try {
        process.kill(-child.pid, 'SIGKILL'); // its process group, as the provisioner's stop does
      } catch {}
      await exited;
      if (typeof outcome !== 'number') {
        const tail = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-10).join('\n');
        const why =
          outcome === 'timeout'
            ? `did not connect within ${options.timeout} s`
            : `exited (${outcome.signal ?? `code ${outcome.code}`}) before connecting`;
        throw new Error(`The bare agent ${why}.${tail ? `\nIts output:\n${tail}` : ''}`);
      }
      const ms = outcome - start;
      if (i >= options.warmup) samples.push(ms);
      log(
        `  bare agent ${i < options.warmup ? 'warm-up' : `run ${i - options.warmup + 1}/${options.runs}`}: ${fmtMs(ms)}`,
      );
    }
  } finally {
    server.close();
    await remove();
  }
  return samples;
}

// ---------------------------------------------------------------------------------------------
// The daemon

/**
 * Spawns the daemon and waits for its "Warren is running at URL" line. Output is kept (the last
 * 64 KiB) so a failure can show why. Returns { url, pid, stop }.
 */
async function startDaemon({ name, dataDir, options, timeoutMs = 30_000 }) {
  const args = [
    DAEMON_BIN,
    'server',
    '--listen',
    '127.0.0.1:0',
    '--data-dir',
    dataDir,
    '--log-level',
    'warn',
    '--log-format',
    'json',
    '--provisioners',
    String(options.provisioners),
    '--workspace-quota',
    String(Math.max(100, options.concurrent + options.runs + options.warmup)),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: daemonEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk).slice(-64 * 1024);
  };
  const lastOutput = () => output.trim().split('\n').slice(-20).join('\n');
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => children.delete(child));
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
        const found = /Warren is running at (\S+)/.exec(buffered.slice(0, newline))?.[1];
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

  // A daemon that dies mid-row fails that row, with its last words.
  const died = exited.then(({ code, signal }) => {
    if (stopping || interrupted) return new Promise(() => {});
    const tail = lastOutput();
    throw new Error(
      `${name} exited during the run (${signal ?? `code ${code}`}).${tail ? `\nIts last output:\n${tail}` : ''}`,
    );
  });
  died.catch(() => {});
  return { url, pid: child.pid, stop, died };
}

/** Environment for the daemon: ours minus WARREN_* settings, so only the flags we pass apply. */
function daemonEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('WARREN_')));
}

class TrpcError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function trpc(baseUrl, method, procedure, { input, headers = {} } = {}) {
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

/**
 * A fresh daemon on its own temp data dir with a signed-in owner. Everything it is asked to
 * create is remembered, so stopping it deletes those workspaces through the API first (agents
 * stopped, containers and volumes removed), then stops the daemon, kills any agent left in the
 * data dir and removes the dir.
 */
async function startDaemonWithUser(name, username, options) {
  const { dir, remove } = makeTempDir('warren-bench-');
  const daemon = await startDaemon({ name, dataDir: dir, options });
  const password = `bench-${randomBytes(12).toString('hex')}`;
  await trpc(daemon.url, 'POST', 'setup.createFirstUser', {
    input: { username, email: `${username}@example.com`, password },
  });
  const login = await trpc(daemon.url, 'POST', 'auth.login', {
    input: { login: username, password, sessionIn: 'body' },
  });
  if (typeof login?.token !== 'string' || !login.token)
    throw new Error(`${name}: auth.login returned no token.`);
  const headers = { authorization: `Bearer ${login.token}` };
  const call = (method, procedure, input) => trpc(daemon.url, method, procedure, { input, headers });
  const created = new Set();

  const api = {
    ...daemon,
    dir,
    create: async (workspaceName, template, parameters) => {
      created.add(workspaceName); // before the call: a create that times out may still have happened
      return call('POST', 'workspaces.create', { name: workspaceName, template, parameters });
    },
    get: (workspaceName) => call('GET', 'workspaces.get', { name: workspaceName }),
    list: () => call('GET', 'workspaces.list', {}),
    /** Deletes and waits until the workspace is gone (workspaces.get answers 404). */
    delete: async (workspaceName, timeoutMs) => {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        try {
          await call('POST', 'workspaces.delete', { name: workspaceName });
          break;
        } catch (error) {
          if (error.status === 404) break;
          // 409: a build is still running (a start that was cut short); delete once it is done.
          if (error.status !== 409 || performance.now() > deadline) throw error;
          await sleep(100);
        }
      }
      for (;;) {
        try {
          const view = await api.get(workspaceName);
          if (view?.status === 'failed')
            throw new Error(
              `Deleting ${workspaceName} failed: ${view.latestBuild?.error ?? 'no error given'}`,
            );
        } catch (error) {
          if (error.status === 404) break;
          throw error;
        }
        if (performance.now() > deadline)
          throw new Error(`${workspaceName} was not deleted within ${timeoutMs / 1000} s.`);
        await sleep(50);
      }
      created.delete(workspaceName);
    },
  };
  const deleteLeftovers = onCleanup(`delete ${name}'s workspaces`, async () => {
    if (created.size === 0 || interrupted) return; // on Ctrl-C the temp dir cleanup kills agents
    log(`deleting ${created.size} workspace${created.size === 1 ? '' : 's'} left on ${name}...`);
    const results = await Promise.allSettled([...created].map((w) => api.delete(w, 60_000)));
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length) log(`  ${failed.length} could not be deleted: ${failed[0].reason.message}`);
  });
  api.stop = async () => {
    await deleteLeftovers();
    await daemon.stop();
    await remove();
  };
  return api;
}

/** Resident memory of a process from /proc/<pid>/status, in bytes: VmRSS now, VmHWM its peak. */
function memoryOf(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
  } catch {
    return { rss: Number.NaN, hwm: Number.NaN };
  }
}

/** Total proportional set size of the processes whose cwd is inside `dir` (the agents), and their count. */
function agentsMemory(dir) {
  let pss = 0;
  let count = 0;
  let entries;
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return { pss: Number.NaN, count: 0 };
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
      if (cwd !== dir && !cwd.startsWith(`${dir}/`)) continue;
      const rollup = fs.readFileSync(`/proc/${entry}/smaps_rollup`, 'utf8');
      pss += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
      count++;
    } catch {}
  }
  return { pss, count };
}

// ---------------------------------------------------------------------------------------------
// Workspace rows

const isReady = (view) => view?.status === 'running' && view.agent?.lifecycle === 'ready';

/** Throws if the workspace can no longer become ready. */
function checkNotFailed(view) {
  if (
    ['failed', 'canceled', 'canceling', 'stopping', 'stopped', 'deleting', 'deleted'].includes(view?.status)
  )
    throw new Error(`${view.name} is ${view.status}: ${view.latestBuild?.error ?? 'no error given'}`);
  if (view?.agent?.lifecycle === 'start_error')
    throw new Error(`${view.name}: the agent's startup script failed (lifecycle start_error).`);
}

/** Polls workspaces.get until ready; returns performance.now() of the answer that said so. */
async function waitReady(api, name, options) {
  const deadline = performance.now() + options.timeout * 1000;
  for (;;) {
    throwIfInterrupted();
    const view = await Promise.race([api.get(name), api.died]);
    const now = performance.now();
    if (isReady(view)) return now;
    checkNotFailed(view);
    if (now > deadline)
      throw new Error(
        `${name} was not ready within ${options.timeout} s (status ${view?.status}, agent ${view?.agent?.lifecycle ?? 'none'}).`,
      );
    await sleep(options.pollMs);
  }
}

/** create -> ready, one workspace at a time, each deleted before the next is created. */
async function measureSingleStarts(label, template, parameters, username, options) {
  log(`${label}: starting a daemon...`);
  const api = await startDaemonWithUser(`daemon (${template})`, username, options);
  try {
    const idle = memoryOf(api.pid).rss;
    const samples = [];
    for (let i = 0; i < options.warmup + options.runs; i++) {
      throwIfInterrupted();
      const name = `${template}-${i + 1}`;
      const start = performance.now();
      await Promise.race([api.create(name, template, parameters), api.died]);
      const ready = await waitReady(api, name, options);
      const ms = ready - start;
      if (i >= options.warmup) samples.push(ms);
      log(
        `  ${label} ${i < options.warmup ? 'warm-up' : `run ${i - options.warmup + 1}/${options.runs}`}: ${fmtMs(ms)}`,
      );
      await api.delete(name, options.timeout * 1000);
    }
    return { samples, rss: { idle, peak: memoryOf(api.pid).hwm } };
  } finally {
    await api.stop();
  }
}

/** `concurrent` local workspaces created at once; polls workspaces.list until all are ready. */
async function measureBurst(username, options) {
  const n = options.concurrent;
  log(`${n} concurrent local starts: starting a daemon...`);
  const api = await startDaemonWithUser('daemon (burst)', username, options);
  try {
    const idle = memoryOf(api.pid).rss;
    const names = Array.from({ length: n }, (_, i) => `burst-${String(i + 1).padStart(3, '0')}`);
    const readyAt = new Map();
    log(`  creating ${n} local workspaces at once (--provisioners ${options.provisioners})...`);
    const start = performance.now();
    let createError;
    const creates = Promise.all(names.map((name) => api.create(name, 'local', { file_server: false }))).catch(
      (error) => {
        createError = error;
      },
    );
    const deadline = start + options.timeout * 1000;
    let lastReport = start;
    while (readyAt.size < n) {
      await sleep(options.pollMs);
      throwIfInterrupted();
      if (createError) throw createError;
      const views = await Promise.race([api.list(), api.died]);
      const now = performance.now();
      for (const view of views) {
        if (readyAt.has(view.name)) continue;
        if (isReady(view)) readyAt.set(view.name, now);
        else checkNotFailed(view);
      }
      if (now > deadline)
        throw new Error(`Only ${readyAt.size} of ${n} workspaces were ready within ${options.timeout} s.`);
      if (now - lastReport > 1000) {
        log(`  ${readyAt.size}/${n} ready after ${fmtMs(now - start)}`);
        lastReport = now;
      }
    }
    const peak = memoryOf(api.pid).hwm;
    const agents = agentsMemory(api.dir);
    await creates;
    const times = [...readyAt.values()].map((t) => t - start);
    const wall = Math.max(...times);
    log(`  all ${n} ready after ${fmtMs(wall)}; deleting them...`);
    const deleteStart = performance.now();
    const deleted = await Promise.allSettled(names.map((name) => api.delete(name, options.timeout * 1000)));
    const failed = deleted.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const deleteMs = performance.now() - deleteStart;
    log(`  deleted in ${fmtMs(deleteMs)}`);
    return { samples: times, wall, rss: { idle, peak }, agents, deleteMs };
  } finally {
    await api.stop();
  }
}

/** Why the Docker row cannot run, or undefined when it can. */
function dockerProblem(image) {
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  if (info.error?.code === 'ENOENT') return 'the docker command is not installed';
  if (info.status !== 0)
    return `Docker Engine is not reachable: ${(info.stderr || info.error?.message || '').trim().split('\n').at(-1)}`;
  const inspect = spawnSync('docker', ['image', 'inspect', '--format', '{{.Id}}', image], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  if (inspect.status !== 0)
    return `the image ${image} is not on the Docker host (Warren does not pull images; the Docker tests in apps/daemon build ${DEFAULT_IMAGE}, or pass --docker-image)`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Report

function fmtMs(ms) {
  if (!Number.isFinite(ms)) return 'n/a';
  return ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

const fmtMiB = (bytes) => (Number.isFinite(bytes) ? `${Math.round(bytes / 1_048_576)}` : 'n/a');
const fmtRatio = (n) => (Number.isFinite(n) ? `${n >= 10 ? n.toFixed(1) : n.toFixed(2)}x` : 'n/a');

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function formatTable(rows) {
  const header = ['target', 'n', 'median', 'min', 'max', 'wall', 'ready/s', 'vs baseline', 'daemon RSS MiB'];
  const rightAligned = [false, true, true, true, true, true, true, true, true];
  const body = rows.map((r) => [
    r.label,
    String(r.samples.length),
    fmtMs(median(r.samples)),
    fmtMs(Math.min(...r.samples)),
    fmtMs(Math.max(...r.samples)),
    r.wall === undefined ? '-' : fmtMs(r.wall),
    r.wall === undefined ? '-' : (r.samples.length / (r.wall / 1000)).toFixed(1),
    fmtRatio(r.vsBaseline),
    r.rss ? `${fmtMiB(r.rss.idle)} -> ${fmtMiB(r.rss.peak)}` : '-',
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
  const startedAt = performance.now();
  ensureBuilt({ name: 'daemon', dir: DAEMON_DIR, bundle: DAEMON_BIN }, options.build);
  ensureBuilt({ name: 'agent', dir: AGENT_DIR, bundle: AGENT_BIN }, options.build);

  // One bench user per run: its name is on every container and volume the Docker row makes, so
  // cleanup removes exactly those and nothing that belongs to another run or a real daemon.
  const username = `bench-${randomBytes(4).toString('hex')}`;
  const rows = [];
  const notes = [];
  const failures = [];

  log(`bare agent spawn -> first connect (${options.warmup} warm-up + ${options.runs} runs)...`);
  const baselineSamples = await measureBaseline(options);
  const baseline = median(baselineSamples);
  rows.push({ label: 'bare agent: spawn -> first connect', samples: baselineSamples, vsBaseline: 1 });

  const single = async (label, template, parameters) => {
    try {
      const result = await measureSingleStarts(label, template, parameters, username, options);
      rows.push({ label, ...result, vsBaseline: median(result.samples) / baseline });
    } catch (error) {
      if (interrupted) throw error;
      log(`${label}: FAILED: ${error.message}`);
      failures.push(`${label}: ${error.message}`);
    }
  };

  await single('local: create -> ready', 'local', { file_server: false });

  const dockerLabel = 'docker: create -> ready';
  const dockerSkip = options.docker ? dockerProblem(options.dockerImage) : 'skipped (--no-docker)';
  if (dockerSkip) {
    log(`${dockerLabel}: ${dockerSkip}`);
    notes.push(
      `${dockerLabel}: ${dockerSkip.startsWith('skipped') ? dockerSkip : `skipped: ${dockerSkip}`}.`,
    );
  } else {
    dockerOwners.add(username);
    const removeLeftovers = onCleanup('remove the Docker containers and volumes of this run', () => {
      const removed = removeDockerObjects(username);
      if (removed.containers || removed.volumes)
        log(
          `removed ${removed.containers} leftover containers and ${removed.volumes} volumes labelled ${OWNER_LABEL}=${username}`,
        );
      dockerOwners.delete(username);
    });
    await single(dockerLabel, 'docker', { image: options.dockerImage, cpus: 1, memory_mib: 512 });
    await removeLeftovers();
  }

  const burstLabel = `${options.concurrent} concurrent local starts`;
  if (options.concurrent === 0) {
    notes.push(`${burstLabel}: skipped (--concurrent 0).`);
  } else {
    try {
      const burst = await measureBurst(username, options);
      rows.push({
        label: burstLabel,
        ...burst,
        vsBaseline: burst.wall / (options.concurrent * baseline),
      });
      notes.push(
        `${burstLabel}: ` +
          (burst.agents.count > 0
            ? `the ${burst.agents.count} agent processes used ${fmtMiB(burst.agents.pss)} MiB together (PSS) once all were ready; `
            : '') +
          `deleting all ${options.concurrent} at once took ${fmtMs(burst.deleteMs)}.`,
      );
    } catch (error) {
      if (interrupted) throw error;
      log(`${burstLabel}: FAILED: ${error.message}`);
      failures.push(`${burstLabel}: ${error.message}`);
    }
  }

  const cpus = os.cpus();
  process.stdout.write(
    `\nProvisioning benchmark: ${plural(options.runs, 'run')} per single-start row after ${options.warmup} warm-up, ` +
      `${options.concurrent || 'no'} concurrent local starts, --provisioners ${options.provisioners}, polled every ${options.pollMs} ms\n` +
      `node ${process.version}, ${cpus.length} x ${cpus[0]?.model?.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 1_073_741_824)} GiB\n` +
      `1-minute load average before the run: ${loadBefore.toFixed(2)} (other work on the machine skews the results)\n\n` +
      `${formatTable(rows)}\n\n` +
      'vs baseline: median / bare-agent median; for the concurrent row, wall / (n x bare-agent median).\n' +
      'daemon RSS: after sign-in -> peak (VmHWM) once all were ready, each row on a fresh daemon.\n',
  );
  for (const note of notes) process.stdout.write(`\n${note}\n`);
  if (failures.length) {
    process.stdout.write(`\nFAILED:\n${failures.map((f) => `  ${f.split('\n').join('\n  ')}`).join('\n')}\n`);
  }
  log(`\ndone in ${fmtMs(performance.now() - startedAt)}`);
  return failures.length ? 1 : 0;
}

let exitCode;
try {
  exitCode = await main();
} catch (error) {
  // After Ctrl-C the requests in flight fail as their daemon stops; that is not worth a report.
  if (interrupted) await interruptCleanup;
  if (error instanceof UsageError) {
    log(`${error.message}\n\n${USAGE}`);
    exitCode = 2;
  } else {
    log(`\nbench:provision failed: ${error.stack ?? error}`);
    exitCode = 1;
  }
} finally {
  if (interrupted) await interruptCleanup;
  await cleanupAll();
}
process.exit(exitCode);
