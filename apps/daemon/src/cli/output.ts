import { type Command, Option } from 'commander';

export const outputFormats = ['table', 'json'] as const;
export type OutputFormat = (typeof outputFormats)[number];

/** Global: every command prints aligned text by default and JSON for scripts. */
export const outputOption = new Option('--output <format>', 'output format')
  .choices(outputFormats)
  .default('table');

export function outputFormatOf(command: Command): OutputFormat {
  return (command.optsWithGlobals() as { output?: OutputFormat }).output ?? 'table';
}

export interface Column<T> {
  header: string;
  value(row: T): string;
}

/** Columns padded to their widest cell, two spaces apart, no trailing blanks. */
export function formatTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const cells = [
    columns.map((c) => c.header),
    ...rows.map((row) => columns.map((c) => printable(c.value(row)))),
  ];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => (line[i] ?? '').length)));
  return cells
    .map((line) =>
      line
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** One record as aligned "KEY  value" lines. */
export function formatDetails(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([key]) => key.length));
  return pairs.map(([key, value]) => `${key.padEnd(width)}  ${printable(value)}`.trimEnd()).join('\n');
}

/** Values come from other users (names, audit targets): control characters must not reach the terminal. */
function printable(value: string): string {
  return value.replace(/\p{Cc}/gu, '?');
}

/** "2025-03-01 14:05 UTC"; a missing time is "-". */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]} UTC` : iso;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** JSON prints the rows as the API returned them; a table prints the chosen columns. */
export function printRows<T>(command: Command, rows: readonly T[], columns: readonly Column<T>[]): void {
  if (outputFormatOf(command) === 'json') printJson(rows);
  else process.stdout.write(`${formatTable(columns, rows)}\n`);
}

/** JSON prints `value`; a table prints the sentence a person wants to read. */
export function printResult(command: Command, value: unknown, sentence: string): void {
  if (outputFormatOf(command) === 'json') printJson(value);
  else process.stdout.write(`${sentence}\n`);
}

/** 480 minutes as "8h", for showing a schedule the way it is typed. */
export function formatMinutes(minutes: number | null): string {
  if (!minutes) return 'off';
  if (minutes % 1440 === 0) return `${minutes / 1440}d`;
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  return `${minutes}m`;
}
