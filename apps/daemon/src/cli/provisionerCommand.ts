import { WarrenError } from '@warren/core';
import { type Command, Option } from 'commander';
import type { ProvisionerKey } from './apiTypes';
import { currentSession, normalizeServerUrl, parseToken } from './CliSession';
import { keyValue, positiveInteger } from './flags';
import { type Column, formatTime, outputFormatOf, printJson, printResult, printRows } from './output';

const formatTags = (tags: Record<string, string>) =>
  Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(',') || '-';

const keyColumns: Column<ProvisionerKey>[] = [
  { header: 'NAME', value: (k) => k.name },
  { header: 'ID', value: (k) => k.id },
  { header: 'TAGS', value: (k) => formatTags(k.tags) },
  { header: 'STATUS', value: (k) => (k.revokedAt ? 'revoked' : 'active') },
  { header: 'CREATED', value: (k) => formatTime(k.createdAt) },
  { header: 'LAST USED', value: (k) => formatTime(k.lastUsedAt) },
];

interface StartFlags {
  url?: string;
  key?: string;
  tag?: Record<string, string>;
  concurrency: number;
  dataDir?: string;
  logLevel: string;
}

export function registerProvisionerCommand(program: Command): void {
  const provisioner = program
    .command('provisioner')
    .description('run workspace builds on another machine, from the same queue');
  const keys = provisioner.command('keys').description('manage the keys external provisioners sign in with');

  keys
    .command('create')
    .description('create a provisioner key; it is shown once')
    .argument('<name>', 'a name to recognise it by, e.g. gpu-hosts')
    .option(
      '--tag <key=value>',
      'a tag this key offers; a template needs all of its tags offered (repeat)',
      keyValue,
    )
    .action(async (name: string, flags: { tag?: Record<string, string> }, command: Command) => {
      const created = await currentSession().client.provisionerKeys.create.mutate({
        name,
        tags: flags.tag ?? {},
      });
      if (outputFormatOf(command) === 'json') {
        printJson(created);
        return;
      }
      process.stdout.write(
        `Created provisioner key ${created.name} (tags: ${formatTags(created.tags)}).\n` +
          `${created.key}\n` +
          'Copy it now: it will not be shown again. Start a provisioner with:\n' +
          `  WARREN_PROVISIONER_KEY=... warren provisioner start --url ${currentSession().url}\n`,
      );
    });

  keys
    .command('list')
    .description('list provisioner keys, revoked ones included')
    .action(async (_flags: unknown, command: Command) => {
      printRows(command, await currentSession().client.provisionerKeys.list.query(), keyColumns);
    });

  keys
    .command('revoke')
    .description('revoke a provisioner key: provisioners using it stop taking jobs')
    .argument('<name>')
    .action(async (name: string, _flags: unknown, command: Command) => {
      await currentSession().client.provisionerKeys.revoke.mutate({ name });
      printResult(command, { name, revoked: true }, `Revoked provisioner key ${name}.`);
    });

  provisioner
    .command('start')
    .description('take build jobs from a Warren server and run them on this machine (local and docker)')
    .addOption(new Option('--url <url>', 'the Warren server').env('WARREN_URL'))
    .addOption(
      new Option('--key <key>', 'a provisioner key (warren provisioner keys create)').env(
        'WARREN_PROVISIONER_KEY',
      ),
    )
    // The key carries the tags: the server matches jobs against them, not against flags.
    .addOption(new Option('--tag <key=value>').argParser(keyValue).hideHelp())
    .option('--concurrency <n>', 'builds run at once', positiveInteger, 4)
    .addOption(new Option('--data-dir <dir>', 'where local workspaces live').env('WARREN_DATA_DIR'))
    .addOption(
      new Option('--log-level <level>', 'how much to log')
        .choices(['debug', 'info', 'warn', 'error'])
        .default('info'),
    )
    .action(async (flags: StartFlags) => {
      if (!flags.url)
        throw new WarrenError(
          'INVALID_INPUT',
          'pass --url (or set WARREN_URL) to say which server to take jobs from',
        );
      if (!flags.key)
        throw new WarrenError(
          'INVALID_INPUT',
          'pass --key (or set WARREN_PROVISIONER_KEY); create one with warren provisioner keys create',
        );
      if (flags.tag) {
        throw new WarrenError(
          'INVALID_INPUT',
          'a provisioner offers the tags of its key; create a key with them: warren provisioner keys create NAME --tag key=value',
        );
      }
      const url = normalizeServerUrl(flags.url);
      const key = parseToken(flags.key, 'The provisioner key');
      const [{ runExternalProvisioner }, { defaultDataDir }] = await Promise.all([
        import('./externalProvisioner'),
        import('../config/ServerConfig'),
      ]);
      await runExternalProvisioner({
        url,
        key,
        concurrency: flags.concurrency,
        dataDir: flags.dataDir ?? defaultDataDir(),
        logLevel: flags.logLevel,
      });
      // Docker's connection pool and similar handles would otherwise keep the process waiting.
      process.exit(0);
    });
}
