import { type AuditEntry, listAuditInput } from '@warren/core';
import type { Command } from 'commander';
import { currentSession } from './CliSession';
import { parseFlags, positiveInteger } from './flags';
import { type Column, formatTime, printRows } from './output';

const auditColumns: Column<AuditEntry>[] = [
  { header: 'TIME', value: (e) => formatTime(e.time) },
  { header: 'ACTOR', value: (e) => e.actorUsername ?? '-' },
  { header: 'ACTION', value: (e) => e.action },
  {
    header: 'TARGET',
    value: (e) => (e.targetType ? `${e.targetType}:${e.targetName ?? e.targetId ?? ''}` : '-'),
  },
  { header: 'RESULT', value: (e) => (e.status === 'ok' ? 'ok' : `error ${e.errorCode ?? ''}`.trimEnd()) },
  { header: 'SOURCE IP', value: (e) => e.sourceIp ?? '-' },
];

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('list audit log entries, newest first')
    .option('--actor <username>', 'only what this user did')
    .option('--action <action>', 'only this action, e.g. users.create, or a group such as users')
    .option('--since <time>', 'only entries at or after this ISO 8601 time, e.g. 2025-01-31T00:00:00Z')
    .option('--limit <n>', 'at most this many entries (default 100)', positiveInteger)
    .action(
      async (
        flags: { actor?: string; action?: string; since?: string; limit?: number },
        command: Command,
      ) => {
        const input = parseFlags(listAuditInput, {
          actor: flags.actor,
          action: flags.action,
          since: flags.since,
          limit: flags.limit,
        });
        const entries = await currentSession().client.audit.list.query(input);
        printRows(command, entries, auditColumns);
      },
    );
}
