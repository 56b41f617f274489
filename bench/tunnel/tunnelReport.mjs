// The tunnel benchmark's stdout: the loopback rows, session setup, CPU per GiB, the WireGuard
// rows and the targets from the issue with PASS or MISS, every ratio against a baseline measured
// in the same run.
import { fmtRatio, formatTable } from '../lib/report.mjs';
import { percentile } from '../lib/stats.mjs';
import { OPENSSH_CIPHER } from './openssh.mjs';
import { formatWireguardRows } from './wireguard.mjs';

/** The targets, as shares and milliseconds. */
export const TARGETS = { relayShare: 0.25, setupP99Ms: 5, wireguardShare: 0.9 };

const ms = (n) => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms` : '-');
const pct = (n) => (Number.isFinite(n) ? `${(n * 100).toFixed(0)}%` : 'n/a');
const verdict = (ok) => (ok ? 'PASS' : 'MISS');

const NAMES = {
  direct: 'direct loopback TCP (baseline)',
  openssh: `OpenSSH ssh -L (${OPENSSH_CIPHER})`,
  relay: 'Warren relay port forward',
};

function loopbackTable(rows) {
  const baseline = rows.find((r) => r.key === 'direct')?.mbps;
  return formatTable(
    [
      { header: 'path', cell: (r) => NAMES[r.key] },
      { header: 'MB/s', cell: (r) => r.mbps.toFixed(0), right: true },
      {
        header: 'range',
        cell: (r) => `${r.mbpsRange[0].toFixed(0)}-${r.mbpsRange[1].toFixed(0)}`,
        right: true,
      },
      { header: 'vs direct', cell: (r) => fmtRatio(r.mbps / baseline), right: true },
      { header: 'new conn, 1st byte p50', cell: (r) => ms(r.latency.firstByte.p50), right: true },
      { header: 'p99', cell: (r) => ms(r.latency.firstByte.p99), right: true },
    ],
    rows,
  );
}

function setupTable(rows) {
  const relay = rows.find((r) => r.key === 'relay');
  const lines = [
    { name: 'relay: tunnel open (sign-in check, agent dials back, upgrade)', ...relay.latency.tunnel },
    { name: 'relay: SSH session ready (tunnel open + SSH handshake + auth)', ...relay.latency.session },
    { name: 'floor: the same ssh2 handshake + auth straight over loopback TCP', ...relay.latency.floor },
  ];
  return formatTable(
    [
      { header: 'new session, one at a time', cell: (r) => r.name },
      { header: 'p50', cell: (r) => ms(r.p50), right: true },
      { header: 'p99', cell: (r) => ms(r.p99), right: true },
    ],
    lines,
  );
}

/** Whole commands, a new process each: p50 and p90, and each p50 against OpenSSH's own. */
function commandsTable(commands) {
  const rows = commands.map((c) => ({
    ...c,
    p50: percentile(c.samples, 50),
    p90: percentile(c.samples, 90),
  }));
  const openssh = rows.find((r) => r.key === 'openssh');
  return formatTable(
    [
      {
        header: `whole command, new process each time (${commands[0]?.samples.length ?? 0} each)`,
        cell: (r) => r.label,
      },
      { header: 'p50', cell: (r) => ms(r.p50), right: true },
      { header: 'p90', cell: (r) => ms(r.p90), right: true },
      { header: 'vs OpenSSH', cell: (r) => (openssh ? fmtRatio(r.p50 / openssh.p50) : '-'), right: true },
    ],
    rows,
  );
}

function cpuLines(rows) {
  const fmt = (row, labels) =>
    Object.entries(labels)
      .filter(([key]) => Number.isFinite(row.cpuPerGiB[key]))
      .map(([key, label]) => `${label} ${row.cpuPerGiB[key].toFixed(2)}`)
      .join(', ');
  const relay = rows.find((r) => r.key === 'relay');
  const openssh = rows.find((r) => r.key === 'openssh');
  return [
    'CPU seconds per GiB carried (user + system, over all transfers of the row):',
    `  Warren relay: daemon ${relay.cpuPerGiB.daemon.toFixed(2)} (the relay), ${fmt(relay, { agent: 'agent (ssh2 server)', client: 'warren port-forward (ssh2 client)' })}`,
    ...(openssh ? [`  OpenSSH: ${fmt(openssh, { sshd: 'sshd', ssh: 'ssh' })}`] : []),
  ];
}

function wireguardSection(wireguard) {
  if (wireguard.skipped) return [`WireGuard rows: not measured: ${wireguard.skipped}.`];
  const table = formatWireguardRows(wireguard.rows);
  const forward = wireguard.forward;
  const raw = wireguard.rows.find((r) => /raw wireguard-go/.test(r.name));
  const forwardLines = forward?.skipped
    ? [`WireGuard port forward: not measured: ${forward.skipped}.`]
    : [
        'WireGuard port forward, client and agent namespaces (the daemon routing between them), taking turns:',
        `  raw wireguard-go between the same namespaces: ${forward.bareMbps.toFixed(0)} MB/s (median)`,
        `  warren port-forward --wireguard:              ${forward.mbps.toFixed(0)} MB/s (median), ${pct(forward.share)} of raw per round (median of ${forward.shares.map((s) => pct(s)).join(', ')})`,
        `  ${forward.detail}`,
        ...(raw
          ? [
              `  for reference, the forward is ${pct(forward.mbps / raw.mbps)} of the two-namespace raw row above`,
            ]
          : []),
      ];
  return ['WireGuard, between two network namespaces (veth):', table, '', ...forwardLines];
}

function targetLines(rows, wireguard) {
  const direct = rows.find((r) => r.key === 'direct');
  const relay = rows.find((r) => r.key === 'relay');
  const share = relay.mbps / direct.mbps;
  const forward = wireguard.forward;
  const wgShare = forward && !forward.skipped ? forward.share : Number.NaN;
  const lines = [
    [
      'relay forward >= 25% of direct loopback TCP throughput',
      pct(share),
      verdict(share >= TARGETS.relayShare),
    ],
    [
      'relay session setup (SSH session ready) p99 < 5 ms',
      ms(relay.latency.session.p99),
      verdict(relay.latency.session.p99 < TARGETS.setupP99Ms),
    ],
    [
      'relay new forwarded connection, first byte p99 < 5 ms',
      ms(relay.latency.firstByte.p99),
      verdict(relay.latency.firstByte.p99 < TARGETS.setupP99Ms),
    ],
    Number.isFinite(wgShare)
      ? [
          'WireGuard forward >= 90% of raw wireguard-go (same namespaces)',
          pct(wgShare),
          verdict(wgShare >= TARGETS.wireguardShare),
        ]
      : [
          'WireGuard forward >= 90% of raw wireguard-go (same namespaces)',
          'not measured',
          wireguard.skipped ?? forward?.skipped ?? 'no row',
        ],
  ];
  return formatTable(
    [
      { header: 'target', cell: (l) => l[0] },
      { header: 'measured', cell: (l) => l[1], right: true },
      { header: 'result', cell: (l) => l[2] },
    ],
    lines,
  );
}

/** The whole report as text, ending with a newline. */
export function formatReport({ header, rows, opensshSkipped, wireguard, commands }) {
  return `${[
    ...header,
    '',
    loopbackTable(rows),
    ...(opensshSkipped ? [`OpenSSH row: not measured: ${opensshSkipped}.`] : []),
    '',
    setupTable(rows),
    '',
    ...(commands ? [commandsTable(commands), ''] : []),
    ...cpuLines(rows),
    '',
    ...wireguardSection(wireguard),
    '',
    targetLines(rows, wireguard),
  ].join('\n')}\n`;
}
