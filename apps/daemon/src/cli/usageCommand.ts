import {
  listUsageInput,
  USAGE_CSV_PATH,
  type UsageGrouping,
  type UsageRecord,
  type UsageTotals,
  usageFilterSchema,
  usageGroupings,
  usageSummaryInput,
  WarrenError,
} from '@warren/core';
import { type Command, Option } from 'commander';
import { type CliSession, currentSession } from './CliSession';
import { parseFlags, positiveInteger } from './flags';
import { type Column, formatTable, formatTime, outputFormatOf, printJson, printRows } from './output';

const ms = (value: number | null) => (value === null ? '-' : `${value}ms`);

const recordColumns: Column<UsageRecord>[] = [
  { header: 'TIME', value: (r) => formatTime(r.time) },
  { header: 'USER', value: (r) => r.username ?? '-' },
  { header: 'MODEL', value: (r) => `${r.provider ?? r.providerKind}/${r.model}` },
  { header: 'STATUS', value: (r) => String(r.status) },
  { header: 'KEY', value: (r) => r.credential },
  { header: 'IN', value: (r) => String(r.inputTokens) },
  { header: 'OUT', value: (r) => String(r.outputTokens) },
  { header: 'CACHED', value: (r) => String(r.cacheReadTokens) },
  { header: 'COST', value: (r) => `$${r.costUsd}` },
  { header: 'TTFB', value: (r) => ms(r.ttfbMs) },
];

const totalsColumns = (by: string): Column<UsageTotals & { key: string }>[] => [
  { header: by.toUpperCase(), value: (g) => g.key },
  { header: 'REQUESTS', value: (g) => String(g.requests) },
  { header: 'IN', value: (g) => String(g.inputTokens) },
  { header: 'OUT', value: (g) => String(g.outputTokens) },
  { header: 'CACHE READ', value: (g) => String(g.cacheReadTokens) },
  { header: 'CACHE WRITE', value: (g) => String(g.cacheWriteTokens) },
  { header: 'COST', value: (g) => `$${g.costUsd}` },
  { header: 'P50 TTFB', value: (g) => ms(g.p50TtfbMs) },
];

interface UsageFlags {
  all?: boolean;
  user?: string;
  model?: string;
  provider?: string;
  since?: string;
  until?: string;
  chat?: string;
  by?: UsageGrouping;
  csv?: boolean;
  limit?: number;
}

/** Streams the server's CSV export to stdout, signed in like every other request. */
async function writeCsv(session: CliSession, filter: Record<string, string | undefined>): Promise<void> {
  const params = new URLSearchParams(
    Object.entries(filter).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const url = `${session.url}${USAGE_CSV_PATH}${params.size ? `?${params}` : ''}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { authorization: `Bearer ${session.token.reveal()}` } });
  } catch (error) {
    throw new WarrenError(
      'UNAVAILABLE',
      `cannot reach Warren at ${session.url}: ${(error as Error).message}`,
    );
  }
  if (!response.ok || !response.body) {
    const body = (await response.json().catch(() => undefined)) as
      | { error?: { message?: string } }
      | undefined;
    throw new WarrenError(
      'UPSTREAM',
      body?.error?.message ?? `the export failed with HTTP ${response.status}`,
    );
  }
  for await (const chunk of response.body) {
    if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once('drain', resolve));
  }
}

export function registerUsageCommand(program: Command): void {
  program
    .command('usage')
    .description('AI gateway calls and what they cost: yours, or everyone’s with --all')
    .option('--all', "everyone's calls (owners and auditors)")
    .option('--user <username>', "one user's calls (owners and auditors)")
    .option('--model <model>', 'only this model')
    .option('--provider <name>', 'only this provider')
    .option('--since <time>', 'from this ISO 8601 time, e.g. 2025-06-01T00:00:00Z')
    .option('--until <time>', 'before this ISO 8601 time')
    .option('--chat <id>', 'only the calls of one chat')
    .addOption(new Option('--by <grouping>', 'totals per user, model or UTC day').choices(usageGroupings))
    .option('--csv', 'every matching call as CSV, for a spreadsheet')
    .option('--limit <n>', 'at most this many calls (default 100)', positiveInteger)
    .action(async (flags: UsageFlags, command: Command) => {
      const session = currentSession();
      let user = flags.user;
      if (!user && !flags.all) user = (await session.client.auth.whoami.query()).username;
      const filter = {
        user,
        model: flags.model,
        provider: flags.provider,
        since: flags.since,
        until: flags.until,
        chatId: flags.chat,
      };
      if (flags.csv) {
        await writeCsv(session, parseFlags(usageFilterSchema, filter));
        return;
      }
      if (flags.by) {
        const summary = await session.client.ai.usage.summary.query(
          parseFlags(usageSummaryInput, { ...filter, groupBy: flags.by }),
        );
        if (outputFormatOf(command) === 'json') return printJson(summary);
        const rows = [...summary.groups, { key: 'TOTAL', ...summary.total }];
        process.stdout.write(`${formatTable(totalsColumns(flags.by), rows)}\n`);
        return;
      }
      const input = parseFlags(listUsageInput, { ...filter, limit: flags.limit });
      printRows(command, await session.client.ai.usage.list.query(input), recordColumns);
    });
}
