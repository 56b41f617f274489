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
import { integer, matching, parseArgs, toggle } from '../lib/args.mjs';
import {
  atExit,
  isInterrupted,
  makeTempDir,
  onCleanup,
  runBench,
  throwIfInterrupted,
  trackChild,
} from '../lib/cleanup.mjs';
import {
  DAEMON_BIN,
  DAEMON_DIR,
  ensureBuilt,
  ROOT,
  signInFirstUser,
  startDaemon,
  trpc,
} from '../lib/daemon.mjs';
import { log } from '../lib/log.mjs';
import { memoryOf, pidsIn } from '../lib/proc.mjs';
import { fmtRatio, formatTable, loadAverage, loadLine, machineLine } from '../lib/report.mjs';
import { median } from '../lib/stats.mjs';

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

const parseOptions = (argv) =>
  parseArgs(argv, {
    usage: USAGE,
    defaults: {
      runs: 5,
      warmup: 1,
      concurrent: 50,
      provisioners: 8,
      dockerImage: DEFAULT_IMAGE,
      docker: true,
      pollMs: 20,
      timeout: 60,
      build: false,
    },
    flags: {
      '--runs': integer('runs', { min: 1, max: 100 }),
      '--warmup': integer('warmup', { min: 0, max: 10 }),
      '--concurrent': integer('concurrent', { min: 0, max: 1000 }),
      '--provisioners': integer('provisioners', { min: 1, max: 256 }),
      '--docker-image': matching(
        'dockerImage',
        /^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/,
        '--docker-image needs an image reference such as warren-test-agent:latest.',
      ),
      '--no-docker': toggle('docker', false),
      '--poll-ms': integer('pollMs', { min: 1, max: 10_000 }),
      '--timeout': integer('timeout', { min: 1, max: 3600 }),
      '--build': toggle('build', true),
    },
  });

// ---------------------------------------------------------------------------------------------
// Cleanup (../lib/cleanup.mjs) kills every process working inside a temp dir before the dir goes:
// the local provisioner's agents run detached in their own process groups with their workspace
// home (inside the daemon's data dir) as cwd, so a daemon that died or a delete that never finished
// leaves no agents behind. This bench user's Docker objects go after the Docker row and, as a last
// resort, at exit.

/** Owners (bench usernames) whose Docker containers and volumes go at exit. */
const dockerOwners = new Set();
atExit(() => {
  for (const owner of dockerOwners) removeDockerObjects(owner);
});

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
      const exited = trackChild(child);
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
 * A fresh daemon on its own temp data dir with a signed-in owner. Everything it is asked to
 * create is remembered, so stopping it deletes those workspaces through the API first (agents
 * stopped, containers and volumes removed), then stops the daemon, kills any agent left in the
 * data dir and removes the dir.
 */
async function startDaemonWithUser(name, username, options) {
  const daemon = await startDaemon({
    name,
    args: [
      '--provisioners',
      String(options.provisioners),
      '--workspace-quota',
      String(Math.max(100, options.concurrent + options.runs + options.warmup)),
    ],
  });
  const { headers } = await signInFirstUser(daemon.url, { name, username });
  const call = (method, procedure, input) => trpc(daemon.url, method, procedure, { input, headers });
  const created = new Set();

  const api = {
    ...daemon,
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
    if (created.size === 0 || isInterrupted()) return; // on Ctrl-C the temp dir cleanup kills agents
    log(`deleting ${created.size} workspace${created.size === 1 ? '' : 's'} left on ${name}...`);
    const results = await Promise.allSettled([...created].map((w) => api.delete(w, 60_000)));
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length) log(`  ${failed.length} could not be deleted: ${failed[0].reason.message}`);
  });
  api.stop = async () => {
    await deleteLeftovers();
    await daemon.stop(); // and removes its data dir, killing any agent left in it
  };
  return api;
}

/** Total proportional set size of the processes whose cwd is inside `dir` (the agents), and their count. */
function agentsMemory(dir) {
  const pids = pidsIn(dir);
  if (!pids) return { pss: Number.NaN, count: 0 };
  let pss = 0;
  let count = 0;
  for (const pid of pids) {
    try {
      const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
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

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

function table(rows) {
  const burstOnly = (cell) => (r) => (r.wall === undefined ? '-' : cell(r));
  return formatTable(
    [
      { header: 'target', cell: (r) => r.label },
      { header: 'n', right: true, cell: (r) => String(r.samples.length) },
      { header: 'median', right: true, cell: (r) => fmtMs(median(r.samples)) },
      { header: 'min', right: true, cell: (r) => fmtMs(Math.min(...r.samples)) },
      { header: 'max', right: true, cell: (r) => fmtMs(Math.max(...r.samples)) },
      { header: 'wall', right: true, cell: burstOnly((r) => fmtMs(r.wall)) },
      {
        header: 'ready/s',
        right: true,
        cell: burstOnly((r) => (r.samples.length / (r.wall / 1000)).toFixed(1)),
      },
      { header: 'vs baseline', right: true, cell: (r) => fmtRatio(r.vsBaseline) },
      {
        header: 'daemon RSS MiB',
        right: true,
        cell: (r) => (r.rss ? `${fmtMiB(r.rss.idle)} -> ${fmtMiB(r.rss.peak)}` : '-'),
      },
    ],
    rows,
  );
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const loadBefore = loadAverage();
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
      if (isInterrupted()) throw error;
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
      if (isInterrupted()) throw error;
      log(`${burstLabel}: FAILED: ${error.message}`);
      failures.push(`${burstLabel}: ${error.message}`);
    }
  }

  process.stdout.write(
    `\nProvisioning benchmark: ${plural(options.runs, 'run')} per single-start row after ${options.warmup} warm-up, ` +
      `${options.concurrent || 'no'} concurrent local starts, --provisioners ${options.provisioners}, polled every ${options.pollMs} ms\n` +
      `${machineLine()}, ${Math.round(os.totalmem() / 1_073_741_824)} GiB\n` +
      `${loadLine(loadBefore)}\n\n` +
      `${table(rows)}\n\n` +
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

await runBench({ name: 'bench:provision', usage: USAGE }, main);
