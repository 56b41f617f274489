// The results a bench prints on stdout: the header lines about the machine and an aligned table.
import os from 'node:os';

/** Lays rows out as a text table; each column is { header, cell: (row) => string, right?: true to right-align }. */
export function formatTable(columns, rows) {
  const header = columns.map((c) => c.header);
  const body = rows.map((row) => columns.map((c) => c.cell(row)));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i].length)));
  const line = (cells) =>
    cells
      .map((cell, i) => (columns[i].right ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** A ratio as `0.03x`, `1.00x` or `21.7x`; `n/a` when it is not a finite number. */
export const fmtRatio = (n) => (Number.isFinite(n) ? `${n >= 10 ? n.toFixed(1) : n.toFixed(2)}x` : 'n/a');

/** The 1-minute load average now: take it before the run and pass it to loadLine. */
export const loadAverage = () => os.loadavg()[0];

/** `node vX, N x <CPU model>`: the start of the header line about the machine. */
export function machineLine() {
  const cpus = os.cpus();
  return `node ${process.version}, ${cpus.length} x ${cpus[0]?.model?.trim() ?? 'unknown CPU'}`;
}

/** The header line with the load average taken before the run. */
export const loadLine = (load) =>
  `1-minute load average before the run: ${load.toFixed(2)} (other work on the machine skews the results)`;
