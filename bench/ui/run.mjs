#!/usr/bin/env node
// Web UI benchmark: the production bundle's size per file (raw, gzip, brotli) and what loads up
// front, then how long the workspaces page takes to become interactive with an empty list and
// with 1,000 workspaces, in the same run against one daemon, in Debian's Chromium. Run from the
// repository root: `pnpm bench:ui`. Progress goes to stderr, the tables to stdout.
//
// Seeding: 1,000 workspaces are created through the API (workspaces.create) on a daemon started
// with --provisioners 0, so no build ever runs: every workspace stays "pending" and the daemon
// does no provisioning work while the page is measured.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { integer, parseArgs, toggle } from '../lib/args.mjs';
import { onCleanup, runBench, throwIfInterrupted } from '../lib/cleanup.mjs';
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
import { formatTable, loadAverage, loadLine, machineLine } from '../lib/report.mjs';
import { median, percentile } from '../lib/stats.mjs';

const UI_DIR = path.join(ROOT, 'packages', 'ui');
const UI_DIST = path.join(UI_DIR, 'dist');
// playwright-core is the UI package's dev dependency; the bench borrows it from there.
const { chromium } = createRequire(path.join(UI_DIR, 'package.json'))('playwright-core');

const USAGE = `Usage: pnpm bench:ui [-- options]

  --workspaces N   workspaces in the full list (default 1000)
  --runs N         page loads measured per list, alternating empty and full (default 7)
  --warmup N       discarded loads per list first (default 1)
  --build          rebuild the UI and the daemon first (each is built anyway when missing)
  -h, --help       show this help
`;

const options = () =>
  parseArgs(process.argv.slice(2), {
    usage: USAGE,
    defaults: { workspaces: 1000, runs: 7, warmup: 1, build: false },
    flags: {
      '--workspaces': integer('workspaces', { min: 1, max: 20_000 }),
      '--runs': integer('runs', { min: 1, max: 50 }),
      '--warmup': integer('warmup', { min: 0, max: 10 }),
      '--build': toggle('build', true),
    },
  });

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const ms = (n) => (Number.isFinite(n) ? `${Math.round(n)} ms` : 'n/a');

/** Every script and the stylesheet with their sizes; "initial" is what the first page loads before it can render. */
function bundleRows() {
  const entries = JSON.parse(fs.readFileSync(path.join(UI_DIST, 'entries.json'), 'utf8'));
  const byFile = new Map(entries.scripts.map((s) => [s.file, s]));
  const initial = new Set();
  const visit = (file) => {
    if (initial.has(file)) return;
    initial.add(file);
    for (const dep of byFile.get(file)?.imports ?? []) visit(dep);
  };
  visit(entries.app);
  const files = [...entries.scripts.map((s) => s.file), ...(entries.css ? [entries.css] : [])];
  if (entries.css) initial.add(entries.css);
  const rows = files.map((file) => {
    const body = fs.readFileSync(path.join(UI_DIST, file));
    const script = byFile.get(file);
    return {
      file: file.replace(/^\/assets\//, ''),
      what:
        file === entries.app
          ? 'entry'
          : file === entries.css
            ? 'stylesheet'
            : script?.entry
              ? `lazy: ${path.basename(script.entry, '.tsx')}`
              : 'shared chunk',
      loads: initial.has(file) ? 'up front' : 'on demand',
      raw: body.length,
      gzip: zlib.gzipSync(body, { level: 9 }).length,
      br: zlib.brotliCompressSync(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
    };
  });
  rows.sort((a, b) => (a.loads === b.loads ? b.raw - a.raw : a.loads === 'up front' ? -1 : 1));
  const sum = (list, key) => list.reduce((n, r) => n + r[key], 0);
  const upFront = rows.filter((r) => r.loads === 'up front');
  rows.push(
    {
      file: 'TOTAL loaded up front',
      what: '',
      loads: '',
      raw: sum(upFront, 'raw'),
      gzip: sum(upFront, 'gzip'),
      br: sum(upFront, 'br'),
    },
    {
      file: 'TOTAL all files',
      what: '',
      loads: '',
      raw: sum(rows, 'raw'),
      gzip: sum(rows, 'gzip'),
      br: sum(rows, 'br'),
    },
  );
  return rows;
}

/** Creates `count` workspaces through the API, 16 at a time. */
async function seed(url, headers, count) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await trpc(url, 'POST', 'workspaces.create', {
        headers,
        input: { name: `ws-${String(i).padStart(4, '0')}`, template: 'local', parameters: {} },
      });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/**
 * Loads /workspaces in a fresh browser context (cold cache) and reports, in ms since navigation
 * start: when the list (or its empty state) was on screen, and when the main thread was next free
 * after that, i.e. when a click or key press would be handled: that is "interactive".
 */
async function measureLoad(browser, url, token, expectedRows) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    await context.addCookies([{ name: 'warren_session', value: token, url }]);
    const page = await context.newPage();
    await page.addInitScript((expected) => {
      const w = window;
      w.__bench = { longest: 0 };
      try {
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) w.__bench.longest = Math.max(w.__bench.longest, e.duration);
        }).observe({ type: 'longtask', buffered: true });
      } catch {}
      const check = () => {
        const rows = document.querySelectorAll('tbody tr').length;
        const done = expected === 0 ? document.querySelector('.empty') !== null : rows === expected;
        if (!done) return requestAnimationFrame(check);
        w.__bench.shown = performance.now();
        setTimeout(() => {
          w.__bench.interactive = performance.now();
        }, 0);
      };
      requestAnimationFrame(check);
    }, expectedRows);
    await page.goto(`${url}/workspaces`, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__bench?.interactive !== undefined, null, { timeout: 120_000 });
    const result = await page.evaluate(() => window.__bench);
    let filterMs = Number.NaN;
    if (expectedRows > 1) {
      // Typing into the search box: time until the list shows the one match.
      filterMs = await page.evaluate(async () => {
        const input = document.querySelector('input[type="search"]');
        const start = performance.now();
        const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
        setter.call(input, 'ws-0001');
        input.dispatchEvent(new Event('input', { bubbles: true }));
        while (document.querySelectorAll('tbody tr').length !== 1)
          await new Promise((r) => requestAnimationFrame(r));
        return performance.now() - start;
      });
    }
    return { ...result, filterMs };
  } finally {
    await context.close();
  }
}

async function main() {
  const opts = options();
  const loadBefore = loadAverage();
  ensureBuilt({ name: 'web UI', dir: UI_DIR, bundle: path.join(UI_DIST, 'entries.json') }, opts.build);
  ensureBuilt({ name: 'daemon', dir: DAEMON_DIR, bundle: DAEMON_BIN }, opts.build);
  const bundle = bundleRows();

  log('starting a daemon with --provisioners 0 (no build runs) on a fresh SQLite database');
  const daemon = await startDaemon({
    name: 'daemon',
    args: ['--provisioners', '0', '--workspace-quota', String(opts.workspaces)],
  });
  const { url } = daemon;
  // The daemon finds the UI beside itself in this checkout; make sure it is the one measured.
  const index = await fetch(`${url}/`);
  if (index.status !== 200) throw new Error(`The daemon did not serve the web UI (HTTP ${index.status}).`);

  const full = await signInFirstUser(url, { name: 'daemon', username: 'full' });
  const emptyPassword = `bench-${Math.random().toString(36).slice(2)}-pw`;
  await trpc(url, 'POST', 'users.create', {
    headers: full.headers,
    input: { username: 'empty', email: 'empty@example.com', password: emptyPassword },
  });
  const emptyLogin = await trpc(url, 'POST', 'auth.login', {
    input: { login: 'empty', password: emptyPassword, sessionIn: 'body' },
  });
  const tokens = { full: full.headers.authorization.replace(/^Bearer /, ''), empty: emptyLogin.token };

  log(`seeding ${opts.workspaces} workspaces through the API`);
  const seedStart = performance.now();
  await seed(url, full.headers, opts.workspaces);
  const seedMs = performance.now() - seedStart;
  const listSamples = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    const list = await trpc(url, 'GET', 'workspaces.list', { headers: full.headers });
    listSamples.push(performance.now() - start);
    if (list.length !== opts.workspaces)
      throw new Error(`workspaces.list returned ${list.length} workspaces.`);
  }

  const browser = await chromium.launch({
    executablePath: process.env.WARREN_CHROMIUM ?? '/usr/bin/chromium',
    // Chromium must not dial out: this machine has no network, and the attempts slow it down.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
  onCleanup('close Chromium', () => browser.close());
  const samples = { empty: [], full: [] };
  for (let i = 0; i < opts.warmup + opts.runs; i++) {
    throwIfInterrupted();
    // Alternating keeps drift on a shared machine from landing on one side only.
    for (const which of ['empty', 'full']) {
      const r = await measureLoad(browser, url, tokens[which], which === 'full' ? opts.workspaces : 0);
      if (i >= opts.warmup) samples[which].push(r);
      log(
        `${which} #${i + 1}${i < opts.warmup ? ' (warm-up)' : ''}: shown ${ms(r.shown)}, interactive ${ms(r.interactive)}`,
      );
    }
  }
  await browser.close();
  await daemon.stop();

  const stat = (list, key, p) => {
    const values = list
      .map((s) => s[key])
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    return p === 50 ? median(values) : percentile(values, p);
  };
  const pageRows = [
    { label: 'empty list', list: samples.empty },
    { label: `${opts.workspaces} workspaces`, list: samples.full },
  ];
  process.stdout.write(
    `\nWeb UI benchmark\n${machineLine()}, ${Math.round(os.totalmem() / 1_073_741_824)} GiB, Chromium ${browser.version()}\n${loadLine(loadBefore)}\n\n` +
      `Production bundle (packages/ui/dist/assets)\n${formatTable(
        [
          { header: 'file', cell: (r) => r.file },
          { header: 'what', cell: (r) => r.what },
          { header: 'loads', cell: (r) => r.loads },
          { header: 'raw', cell: (r) => kib(r.raw), right: true },
          { header: 'gzip', cell: (r) => kib(r.gzip), right: true },
          { header: 'brotli', cell: (r) => kib(r.br), right: true },
        ],
        bundle,
      )}\n\n` +
      `Workspaces page, cold cache, ${opts.runs} loads each (ms since navigation start)\n${formatTable(
        [
          { header: 'list', cell: (r) => r.label },
          { header: 'shown p50', cell: (r) => ms(stat(r.list, 'shown', 50)), right: true },
          { header: 'interactive p50', cell: (r) => ms(stat(r.list, 'interactive', 50)), right: true },
          { header: 'interactive max', cell: (r) => ms(stat(r.list, 'interactive', 100)), right: true },
          { header: 'longest task p50', cell: (r) => ms(stat(r.list, 'longest', 50)), right: true },
          { header: 'search filter p50', cell: (r) => ms(stat(r.list, 'filterMs', 50)), right: true },
        ],
        pageRows,
      )}\n\n` +
      `Seeding ${opts.workspaces} workspaces through workspaces.create took ${(seedMs / 1000).toFixed(1)} s; ` +
      `workspaces.list with all of them answers in ${ms(median(listSamples))} (median of 5).\n` +
      'shown: the rows (or the empty state) are on screen; interactive: the first moment after that when the\n' +
      'main thread is free to handle input; longest task: the longest main-thread task during the load.\n',
  );
  return 0;
}

await runBench({ name: 'bench:ui', usage: USAGE }, main);
