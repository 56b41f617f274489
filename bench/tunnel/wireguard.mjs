#!/usr/bin/env node
// WireGuard rows of the tunnel benchmark: raw wireguard-go throughput between two network
// namespaces, beside a direct TCP transfer over the veth pair that joins them (the baseline).
// Both rows move bytes with the same Node sender and receiver (packages/core/test-support/
// tcpTransfer.mjs) for --seconds each; the WireGuard devices are configured only through
// Warren's UAPI client, and the bytes are checked against WireGuard's own counters.
// Needs root, iproute2 and wireguard-go; prints why and exits 0 when they are missing.
// Run from the repository root: `node bench/tunnel/wireguard.mjs [--seconds 3]`.
// `measureWireguardRows` is exported for a combined bench/tunnel table.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { integer, parseArgs } from '../lib/args.mjs';
import { bundleTypeScript } from '../lib/bundle.mjs';
import { onCleanup, runBench } from '../lib/cleanup.mjs';
import { ROOT } from '../lib/daemon.mjs';
import { log } from '../lib/log.mjs';
import { fmtRatio, formatTable, loadAverage, loadLine, machineLine } from '../lib/report.mjs';
import { measureWireguardForward as measureForward } from './wireguardForward.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TRANSFER_SCRIPT = path.join(ROOT, 'packages', 'core', 'test-support', 'tcpTransfer.mjs');
const USAGE = `Usage: node bench/tunnel/wireguard.mjs [--seconds N]

  --seconds N   seconds each transfer runs (default 3, 1 to 30)
`;

/** Core's WireGuard and namespace code, bundled from TypeScript; returns the module. */
async function loadWireguardModule() {
  const { dir, file } = bundleTypeScript(path.join(HERE, 'wireguardEntry.ts'), {
    prefix: 'warren-bench-wg-',
    name: 'wireguard.mjs',
  });
  // runTcpTransfer finds its helper script next to itself, which is now the bundle.
  fs.copyFileSync(TRANSFER_SCRIPT, path.join(dir, 'tcpTransfer.mjs'));
  return import(pathToFileURL(file).href);
}

const mbPerSecond = (side) => side.bytes / 1e6 / (side.ms / 1000);

/**
 * Measures both rows; returns { rows, skipped } where skipped is the reason nothing ran. Each row:
 * { name, mbps, connectMs, bytes, check } (check: what confirmed the bytes took that path).
 */
export async function measureWireguardRows({ seconds = 3 } = {}) {
  const wg = await loadWireguardModule();
  const skipped = wg.netnsUnavailableReason(['wireguard-go']);
  if (skipped) return { rows: [], skipped };

  const lab = new wg.NetnsLab();
  const devices = [];
  onCleanup('wireguard namespaces', async () => {
    for (const device of devices) await device.stop();
    await lab.cleanup();
  });
  const nsA = await lab.namespace('bench-a');
  const nsB = await lab.namespace('bench-b');
  await lab.connect(nsA, '192.168.79.1/24', nsB, '192.168.79.2/24');

  log(`direct TCP over the veth pair for ${seconds} s...`);
  const direct = await wg.runTcpTransfer(lab, {
    sinkNs: nsB,
    sourceNs: nsA,
    host: '192.168.79.2',
    port: 7001,
    seconds,
  });

  const [keysA, keysB] = [wg.generateWireguardKeyPair(), wg.generateWireguardKeyPair()];
  const a = await wg.WireguardGoProcess.start({
    interfaceName: lab.interfaceName('wa'),
    netns: nsA,
    addresses: ['100.64.0.1/24'],
  });
  devices.push(a);
  const b = await wg.WireguardGoProcess.start({
    interfaceName: lab.interfaceName('wb'),
    netns: nsB,
    addresses: ['100.64.0.2/24'],
  });
  devices.push(b);
  await a.client.configure({
    privateKey: keysA.privateKey,
    listenPort: 51820,
    peers: [{ publicKey: keysB.publicKey, endpoint: '192.168.79.2:51821', allowedIps: ['100.64.0.2/32'] }],
  });
  await b.client.configure({
    privateKey: keysB.privateKey,
    listenPort: 51821,
    peers: [{ publicKey: keysA.publicKey, allowedIps: ['100.64.0.1/32'] }],
  });

  log(`TCP through wireguard-go for ${seconds} s...`);
  const tunnel = await wg.runTcpTransfer(lab, {
    sinkNs: nsB,
    sourceNs: nsA,
    host: '100.64.0.2',
    port: 7002,
    seconds,
  });
  const [peer] = (await b.client.getDevice()).peers;
  const counted = peer?.rxBytes ?? 0;
  if (counted < tunnel.sink.bytes)
    throw new Error(
      `wireguard-go counted ${counted} bytes received, fewer than the ${tunnel.sink.bytes} that arrived.`,
    );

  return {
    skipped: undefined,
    rows: [
      { name: 'direct TCP over veth (baseline)', side: direct, check: 'veth, no tunnel' },
      {
        name: 'raw wireguard-go (UAPI-configured)',
        side: tunnel,
        check: `peer rx ${(counted / 1e6).toFixed(0)} MB >= TCP bytes`,
      },
    ].map(({ name, side, check }) => ({
      name,
      mbps: mbPerSecond(side.sink),
      connectMs: side.source.connectMs,
      bytes: side.sink.bytes,
      check,
    })),
  };
}

/**
 * The WireGuard port forward (daemon, agent and `warren port-forward --wireguard` in separate
 * namespaces): { mbps, detail, ... } or { skipped }. See ./wireguardForward.mjs.
 */
export async function measureWireguardForward({ seconds = 3 } = {}) {
  return measureForward({ seconds, wg: await loadWireguardModule() });
}

/** The rows as a table, with each row's share of the baseline (the first row). */
export function formatWireguardRows(rows) {
  const baseline = rows[0]?.mbps ?? Number.NaN;
  return formatTable(
    [
      { header: 'path', cell: (r) => r.name },
      { header: 'MB/s', cell: (r) => r.mbps.toFixed(0), right: true },
      { header: 'vs direct', cell: (r) => fmtRatio(r.mbps / baseline), right: true },
      { header: 'first connect ms', cell: (r) => r.connectMs.toFixed(2), right: true },
      { header: 'MB moved', cell: (r) => (r.bytes / 1e6).toFixed(0), right: true },
      { header: 'check', cell: (r) => r.check },
    ],
    rows,
  );
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  await runBench({ name: 'bench/tunnel wireguard', usage: USAGE }, async () => {
    const options = parseArgs(process.argv.slice(2), {
      usage: USAGE,
      defaults: { seconds: 3 },
      flags: { '--seconds': integer('seconds', { min: 1, max: 30 }) },
    });
    const load = loadAverage();
    const { rows, skipped } = await measureWireguardRows(options);
    if (skipped) {
      process.stdout.write(`WireGuard rows skipped: ${skipped}.\n`);
      return 0;
    }
    const forward = await measureWireguardForward(options);
    const forwardLine = forward.skipped
      ? `WireGuard port forward: not measured: ${forward.skipped}.`
      : `WireGuard port forward: ${forward.mbps.toFixed(0)} MB/s, ${fmtRatio(forward.share)} of raw wireguard-go between the same namespaces (${forward.bareMbps.toFixed(0)} MB/s; ${forward.detail})`;
    process.stdout.write(
      `${machineLine()}, ${options.seconds} s per row, sender and receiver in separate network namespaces\n` +
        `${loadLine(load)}\n\n${formatWireguardRows(rows)}\n\n${forwardLine}\n`,
    );
    return 0;
  });
}
