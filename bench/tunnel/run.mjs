#!/usr/bin/env node
// Tunnel benchmark: throughput and connection setup, in one run, for direct loopback TCP (the
// baseline), OpenSSH's own `ssh -L` (a reference), Warren's relay port forward (daemon + local
// workspace + `warren port-forward`), and WireGuard between two network namespaces; plus the CPU
// each process spends per GiB carried. Run from the repository root: `pnpm bench:tunnel`.
// See bench/tunnel/README.md for what the rows mean. Progress goes to stderr, the table to stdout.
import fs from 'node:fs';
import path from 'node:path';
import { integer, matching, parseArgs, toggle } from '../lib/args.mjs';
import { runBench, throwIfInterrupted } from '../lib/cleanup.mjs';
import { DAEMON_BIN, DAEMON_DIR, ensureBuilt, ROOT } from '../lib/daemon.mjs';
import { log } from '../lib/log.mjs';
import { cpuSecondsOf, processTree } from '../lib/proc.mjs';
import { loadAverage, loadLine, machineLine } from '../lib/report.mjs';
import { median, percentile } from '../lib/stats.mjs';
import { commandRows, timeCommands } from './commands.mjs';
import { opensshUnavailableReason, startSshd, startSshForward } from './openssh.mjs';
import { profileAgent } from './profile.mjs';
import { loadTunnelClient, startPortForward, startRelay } from './relay.mjs';
import { floorSessionSetup, relaySessionSetup, relayTunnelOpen, startSshFloor } from './sessions.mjs';
import { bulkTransfer, freePort, sequentialSamples, startGreeter, timeToFirstByte } from './transfer.mjs';
import { formatReport } from './tunnelReport.mjs';

const AGENT_DIR = path.join(ROOT, 'apps', 'agent');
const AGENT_BIN = path.join(AGENT_DIR, 'dist', 'warren-agent.mjs');

const USAGE = `Usage: pnpm bench:tunnel [-- options]

  --seconds N       seconds per bulk transfer (default 3)
  --rounds N        transfers per loopback row, the rows taking turns; the median counts (default 3)
  --connections N   new forwarded connections timed per row, one at a time (default 200)
  --sessions N      new SSH sessions timed, one at a time (default 100)
  --commands N      whole \`ssh ... true\` commands timed per kind, a new process each (default 20; 0 skips)
  --warmup N        discarded connections and sessions before each series (default 20)
  --no-openssh      skip the OpenSSH reference row
  --no-wireguard    skip the WireGuard rows
  --cpu-prof DIR    run the daemon, its agent and warren port-forward under node --cpu-prof,
                    writing their profiles into DIR
  --build           rebuild the daemon and the agent first (each is built anyway when missing)
  -h, --help        show this help
`;

const parseOptions = (argv) =>
  parseArgs(argv, {
    usage: USAGE,
    defaults: {
      seconds: 3,
      rounds: 3,
      connections: 200,
      sessions: 100,
      commands: 20,
      warmup: 20,
      openssh: true,
      wireguard: true,
      cpuProf: undefined,
      build: false,
    },
    flags: {
      '--seconds': integer('seconds', { min: 1, max: 30 }),
      '--rounds': integer('rounds', { min: 1, max: 20 }),
      '--connections': integer('connections', { min: 1, max: 10_000 }),
      '--sessions': integer('sessions', { min: 1, max: 2_000 }),
      '--commands': integer('commands', { min: 0, max: 500 }),
      '--warmup': integer('warmup', { min: 0, max: 1_000 }),
      '--no-openssh': toggle('openssh', false),
      '--no-wireguard': toggle('wireguard', false),
      '--cpu-prof': matching('cpuProf', /./, '--cpu-prof needs a directory.'),
      '--build': toggle('build', true),
    },
  });

/** CPU seconds of every process in `pids` ({ name: () => pid[] }) now. */
const cpuNow = (pids) =>
  Object.fromEntries(
    Object.entries(pids).map(([name, list]) => [
      name,
      list().reduce((sum, pid) => sum + (cpuSecondsOf(pid) || 0), 0),
    ]),
  );

/** Series of samples: `firstByte` through the row's greeter port, and its own extra series. */
async function latencySeries(row, greeterPort, options) {
  const series = {};
  log(`${row.name}: ${options.warmup} + ${options.connections} new connections, first byte...`);
  series.firstByte = await sequentialSamples(() => timeToFirstByte(greeterPort), {
    warmup: options.warmup,
    count: options.connections,
  });
  for (const [key, { label, once }] of Object.entries(row.sessions ?? {})) {
    throwIfInterrupted();
    log(`${row.name}: ${options.warmup} + ${options.sessions} ${label}...`);
    series[key] = await sequentialSamples(once, { warmup: options.warmup, count: options.sessions });
  }
  return series;
}

/** Every loopback row's transfers, taking turns for `rounds`, with the CPU of its processes over them. */
async function transfers(rows, sinkPort, options) {
  for (const row of rows) Object.assign(row, { mbps: [], bytes: 0, cpu: {} });
  for (let round = 1; round <= options.rounds; round++) {
    for (const row of rows) {
      throwIfInterrupted();
      log(`${row.name}: transfer ${round}/${options.rounds}, ${options.seconds} s...`);
      const before = cpuNow(row.pids);
      const result = await Promise.race([
        bulkTransfer({ sinkPort, connectPort: row.bulkPort, seconds: options.seconds }),
        ...(row.died ? [row.died] : []),
      ]);
      const after = cpuNow(row.pids);
      for (const name of Object.keys(after))
        row.cpu[name] = (row.cpu[name] ?? 0) + after[name] - before[name];
      row.mbps.push(result.mbps);
      row.bytes += result.bytes;
      log(`  ${result.mbps.toFixed(0)} MB/s (${(result.bytes / 1e6).toFixed(0)} MB, sha256 checked)`);
    }
  }
}

/**
 * The WireGuard rows from ./wireguard.mjs (raw wireguard-go beside direct TCP over the same veth)
 * and the WireGuard port forward, when a module exporting `measureWireguardForward` is there
 * (another part of the issue builds it); otherwise that row says why it was not measured.
 */
async function wireguardRows(options) {
  if (!options.wireguard) return { rows: [], skipped: '--no-wireguard' };
  const wg = await import('./wireguard.mjs');
  log('WireGuard rows (network namespaces)...');
  const measured = await wg.measureWireguardRows({ seconds: options.seconds });
  if (measured.skipped) return measured;
  const forward =
    typeof wg.measureWireguardForward === 'function'
      ? await wg.measureWireguardForward({ seconds: options.seconds })
      : {
          skipped:
            'bench/tunnel/wireguard.mjs has no measureWireguardForward yet (the WireGuard port forward is being built)',
        };
  return { ...measured, forward };
}

await runBench({ name: 'bench/tunnel', usage: USAGE }, async () => {
  const options = parseOptions(process.argv.slice(2));
  const load = loadAverage();
  ensureBuilt({ name: 'daemon', dir: DAEMON_DIR, bundle: DAEMON_BIN }, options.build);
  ensureBuilt({ name: 'agent', dir: AGENT_DIR, bundle: AGENT_BIN }, options.build);
  const profileArgs = (name) =>
    options.cpuProf
      ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProf, '--cpu-prof-name', `${name}.cpuprofile`]
      : [];
  if (options.cpuProf) fs.mkdirSync(options.cpuProf, { recursive: true });

  const greeter = await startGreeter();
  const sinkPort = await freePort();
  const client = await loadTunnelClient();
  const rows = [
    { key: 'direct', name: 'direct loopback TCP', bulkPort: sinkPort, greetPort: greeter.port, pids: {} },
  ];

  const opensshSkipped = options.openssh ? opensshUnavailableReason() : '--no-openssh';
  let sshd;
  if (!opensshSkipped) {
    log('OpenSSH: starting sshd and ssh -L...');
    sshd = await startSshd();
    const forwards = [
      { localPort: await freePort(), remotePort: sinkPort },
      { localPort: await freePort(), remotePort: greeter.port },
    ];
    const ssh = await startSshForward(sshd, forwards, forwards[1].localPort);
    rows.push({
      key: 'openssh',
      name: 'OpenSSH ssh -L',
      bulkPort: forwards[0].localPort,
      greetPort: forwards[1].localPort,
      pids: { ssh: () => [ssh.pid], sshd: () => processTree(sshd.pid) },
    });
  }

  log('Warren relay: starting the daemon and a local workspace...');
  const relay = await startRelay({ nodeArgs: profileArgs('daemon') });
  const profiledAgent = options.cpuProf ? await profileAgent(relay, profileArgs('agent')) : undefined;
  if (profiledAgent) relay.agentPid = profiledAgent.pid;
  const forwards = [
    { localPort: await freePort(), remotePort: sinkPort },
    { localPort: await freePort(), remotePort: greeter.port },
  ];
  const cli = await startPortForward(relay, forwards, profileArgs('port-forward'));
  const publicKey = client.ephemeralKeyPair().publicKey;
  const floor = await startSshFloor(client);
  rows.push({
    key: 'relay',
    name: 'Warren relay port forward',
    bulkPort: forwards[0].localPort,
    greetPort: forwards[1].localPort,
    died: relay.died,
    pids: { daemon: () => [relay.pid], agent: () => [relay.agentPid], client: () => [cli.pid] },
    sessions: {
      tunnel: { label: 'tunnel opens', once: () => relayTunnelOpen(client, relay, publicKey) },
      session: { label: 'SSH sessions through the relay', once: () => relaySessionSetup(client, relay) },
      floor: {
        label: 'ssh2 sessions straight over loopback TCP',
        once: () => floorSessionSetup(client, floor),
      },
    },
  });

  for (const row of rows) row.latency = await latencySeries(row, row.greetPort, options);
  let commands;
  if (options.commands > 0) {
    log(`Whole commands: ${options.commands} of each kind, taking turns...`);
    try {
      commands = await timeCommands(await commandRows(relay, sshd), options.commands);
    } catch (error) {
      // A command that failed through the relay: say what the daemon and the agent saw.
      throw new Error(`${error.message}\n${relay.diagnostics()}`);
    }
  }
  await transfers(rows, sinkPort, options);
  await cli.stop();
  await profiledAgent?.stop();
  await relay.stop(); // frees the CPU (and writes the profiles) before the WireGuard rows
  await greeter.close();
  await floor.close();

  const wireguard = await wireguardRows(options);
  const loadAfter = loadAverage();

  const summary = rows.map((row) => ({
    key: row.key,
    name: row.name,
    mbps: median(row.mbps),
    mbpsRange: [Math.min(...row.mbps), Math.max(...row.mbps)],
    bytes: row.bytes,
    cpuPerGiB: Object.fromEntries(Object.entries(row.cpu).map(([n, s]) => [n, s / (row.bytes / 2 ** 30)])),
    latency: Object.fromEntries(
      Object.entries(row.latency).map(([k, sorted]) => [
        k,
        { p50: percentile(sorted, 50), p99: percentile(sorted, 99) },
      ]),
    ),
  }));
  process.stdout.write(
    formatReport({
      header: [
        `Tunnel benchmark: ${options.rounds} x ${options.seconds} s transfers per loopback row (median shown), ` +
          `${options.connections} new connections and ${options.sessions} new sessions per series, one at a time`,
        machineLine(),
        `${loadLine(load)}; after: ${loadAfter.toFixed(2)}`,
      ],
      rows: summary,
      opensshSkipped,
      wireguard,
      commands,
    }),
  );
  return 0;
});
