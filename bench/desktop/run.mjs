#!/usr/bin/env node
// Desktop benchmark: how fast the desktop's saved port forwards come back after the daemon
// restarts, and what the main-process modules hold in memory with 201 workspaces (200 of them
// parked in the build queue) and 20 forwards, against an empty baseline in the same process.
// Run from the repository root: `pnpm bench:desktop`. Progress goes to stderr, the table to stdout.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { integer, parseArgs, toggle } from '../lib/args.mjs';
import { bundleTypeScript, COMMONJS_INSIDE_ARGS } from '../lib/bundle.mjs';
import { runBench, trackChild } from '../lib/cleanup.mjs';
import { DAEMON_BIN, DAEMON_DIR, ensureBuilt, ROOT } from '../lib/daemon.mjs';
import { log } from '../lib/log.mjs';
import { formatTable, loadAverage, loadLine, machineLine } from '../lib/report.mjs';
import { median } from '../lib/stats.mjs';

const AGENT_DIR = path.join(ROOT, 'apps', 'agent');
const AGENT_BIN = path.join(AGENT_DIR, 'dist', 'warren-agent.mjs');

const USAGE = `Usage: pnpm bench:desktop [-- options]

  --rounds N       daemon restarts timed (default 5)
  --workspaces N   workspaces parked in the queue besides the running one (default 200)
  --forwards N     saved port forwards open on the running workspace (default 20)
  --build          rebuild the daemon and the agent first (each is built anyway when missing)
  -h, --help       show this help
`;

const options = parseArgs(process.argv.slice(2), {
  usage: USAGE,
  defaults: { rounds: 5, workspaces: 200, forwards: 20, build: false },
  flags: {
    '--rounds': integer('rounds', { min: 1, max: 50 }),
    '--workspaces': integer('workspaces', { min: 0, max: 5000 }),
    '--forwards': integer('forwards', { min: 1, max: 200 }),
    '--build': toggle('build', true),
  },
});

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const ms = (value) => `${Math.round(value)} ms`;

await runBench({ name: 'bench:desktop', usage: USAGE }, async () => {
  const load = loadAverage();
  ensureBuilt({ name: 'daemon', dir: DAEMON_DIR, bundle: DAEMON_BIN }, options.build);
  ensureBuilt({ name: 'agent', dir: AGENT_DIR, bundle: AGENT_BIN }, options.build);
  const { file } = bundleTypeScript(path.join(ROOT, 'bench', 'desktop', 'desktopBench.ts'), {
    prefix: 'warren-bench-desktop-',
    name: 'desktopBench.mjs',
    esbuildArgs: COMMONJS_INSIDE_ARGS,
  });
  log('running the desktop modules against a real daemon');
  const child = spawn(process.execPath, ['--expose-gc', file], {
    cwd: ROOT,
    env: {
      ...process.env,
      WARREN_DAEMON_BIN: DAEMON_BIN,
      WARREN_AGENT_BIN: AGENT_BIN,
      BENCH_ROUNDS: String(options.rounds),
      BENCH_WORKSPACES: String(options.workspaces),
      BENCH_FORWARDS: String(options.forwards),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  trackChild(child);
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the measured process exited with ${code}`);
  const result = JSON.parse(out.trim().split('\n').pop());

  const back = result.rounds.map((r) => r.backMs);
  const down = result.rounds.map((r) => r.downMs);
  const start = result.rounds.map((r) => r.startMs);
  process.stdout.write(`${machineLine()}\n${loadLine(load)}\n\n`);
  process.stdout.write('Tunnel reconnect after a daemon restart (SIGTERM, start again on the same port)\n');
  process.stdout.write(
    `${formatTable(
      [
        { header: 'measure', cell: (r) => r.name },
        { header: 'median', cell: (r) => ms(median(r.values)), right: true },
        { header: 'min', cell: (r) => ms(Math.min(...r.values)), right: true },
        { header: 'max', cell: (r) => ms(Math.max(...r.values)), right: true },
      ],
      [
        { name: 'daemon stop + start (until it listens)', values: start },
        { name: 'forward serving again, after the daemon listens', values: back },
        { name: 'forward outage, stop to serving again', values: down },
      ],
    )}\n\n`,
  );
  process.stdout.write(
    `Main-process memory: ${result.workspaces} workspaces in the tray, ${result.forwards} forwards open (after gc)\n`,
  );
  process.stdout.write(
    `${formatTable(
      [
        { header: 'state', cell: (r) => r.name },
        { header: 'heap used', cell: (r) => mb(r.heapUsed), right: true },
        { header: 'RSS', cell: (r) => mb(r.rss), right: true },
      ],
      [
        { name: 'empty baseline (modules loaded)', ...result.baseline },
        { name: 'loaded', ...result.loaded },
        {
          name: 'difference',
          heapUsed: result.loaded.heapUsed - result.baseline.heapUsed,
          rss: result.loaded.rss - result.baseline.rss,
        },
      ],
    )}\n\n`,
  );
  process.stdout.write(
    `Tray menu built from ${result.workspaces} workspaces: ${result.trayMs.toFixed(2)} ms each\n`,
  );
  return 0;
});
