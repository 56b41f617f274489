import type { UsageRecord } from '@warren/core';

type Cell = string | number | boolean | null;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled.
 * Text that a spreadsheet would run as a formula (= + - @, or a leading tab or carriage return)
 * gets a leading apostrophe; numbers are written as they are.
 */
export function csvField(value: Cell): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, CRLF-terminated as RFC 4180 asks. */
export function csvLine(cells: readonly Cell[]): string {
  return `${cells.map(csvField).join(',')}\r\n`;
}

const columns: readonly [string, (r: UsageRecord) => Cell][] = [
  ['time', (r) => r.time],
  ['user', (r) => r.username],
  ['provider', (r) => r.provider],
  ['provider_kind', (r) => r.providerKind],
  ['model', (r) => r.model],
  ['endpoint', (r) => r.endpoint],
  ['streaming', (r) => r.streaming],
  ['credential', (r) => r.credential],
  ['status', (r) => r.status],
  ['error', (r) => r.error],
  ['input_tokens', (r) => r.inputTokens],
  ['output_tokens', (r) => r.outputTokens],
  ['cache_read_tokens', (r) => r.cacheReadTokens],
  ['cache_write_tokens', (r) => r.cacheWriteTokens],
  ['cost_usd', (r) => r.costUsd],
  ['ttfb_ms', (r) => r.ttfbMs],
  ['total_ms', (r) => r.totalMs],
  ['overhead_ms', (r) => r.overheadMs],
  ['chat_id', (r) => r.chatId],
  ['id', (r) => r.id],
];

/** The export: a header line, then one line per gateway call. */
export async function* usageCsv(records: AsyncIterable<UsageRecord>): AsyncGenerator<string> {
  yield csvLine(columns.map(([name]) => name));
  for await (const record of records) yield csvLine(columns.map(([, value]) => value(record)));
}
