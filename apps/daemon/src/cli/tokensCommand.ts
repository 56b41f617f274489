import { type ApiKey, createTokenInput, listTokensInput, revokeTokenInput } from '@warren/core';
import type { Command } from 'commander';
import { currentSession } from './CliSession';
import { lifetimeSeconds, parseFlags } from './flags';
import { type Column, formatTime, outputFormatOf, printJson, printResult, printRows } from './output';

function tokenStatus(token: ApiKey): string {
  if (token.revokedAt) return 'revoked';
  return Date.parse(token.expiresAt) <= Date.now() ? 'expired' : 'active';
}

const tokenColumns: Column<ApiKey>[] = [
  { header: 'ID', value: (t) => t.id },
  { header: 'NAME', value: (t) => t.name },
  { header: 'USER', value: (t) => t.username },
  { header: 'STATUS', value: tokenStatus },
  { header: 'CREATED', value: (t) => formatTime(t.createdAt) },
  { header: 'EXPIRES', value: (t) => formatTime(t.expiresAt) },
  { header: 'LAST USED', value: (t) => formatTime(t.lastUsedAt) },
];

export function registerTokensCommand(program: Command): void {
  const tokens = program.command('tokens').description('manage API tokens for scripts and CI');

  tokens
    .command('create')
    .description('create an API token; it is shown once')
    .argument('<name>', 'a name to recognise it by, e.g. ci')
    .option(
      '--lifetime <duration>',
      'how long it stays valid: 3600s, 90m, 12h, 30d (default 30d)',
      lifetimeSeconds,
    )
    .action(async (name: string, flags: { lifetime?: number }, command: Command) => {
      const input = parseFlags(createTokenInput, { name, lifetimeSeconds: flags.lifetime });
      const created = await currentSession().client.tokens.create.mutate(input);
      if (outputFormatOf(command) === 'json') {
        printJson(created);
        return;
      }
      process.stdout.write(
        `Created token ${created.name} (id ${created.id}), valid until ${formatTime(created.expiresAt)}.\n` +
          `${created.token}\n` +
          'Copy it now: it will not be shown again.\n',
      );
    });

  tokens
    .command('list')
    .description('list your API tokens')
    .option('--user <username>', "another user's tokens (owners and user admins)")
    .option('--all', 'include revoked tokens')
    .action(async (flags: { user?: string; all?: boolean }, command: Command) => {
      const input = parseFlags(listTokensInput, { username: flags.user, includeRevoked: flags.all ?? false });
      const list = await currentSession().client.tokens.list.query(input);
      printRows(command, list, tokenColumns);
    });

  tokens
    .command('revoke')
    .description('revoke an API token by id, or by name among your own tokens')
    .argument('<id-or-name>')
    .action(async (idOrName: string, _flags: unknown, command: Command) => {
      const { client } = currentSession();
      const mine = await client.tokens.list.query({});
      const target = mine.find((t) => t.name === idOrName) ?? mine.find((t) => t.id === idOrName);
      const id = target?.id ?? idOrName;
      await client.tokens.revoke.mutate(parseFlags(revokeTokenInput, { id }));
      const label = target ? `${target.name} (id ${target.id})` : id;
      printResult(command, { id, name: target?.name ?? null, revoked: true }, `Revoked token ${label}.`);
    });
}
