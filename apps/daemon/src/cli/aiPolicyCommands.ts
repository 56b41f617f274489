import {
  type AiLimits,
  type AiPolicy,
  type ByokKey,
  byokRefInput,
  type Role,
  roles,
  setByokKeyInput,
  setLimitsInput,
  setRoleModelsInput,
  WarrenError,
} from '@warren/core';
import type { Command } from 'commander';
import { maskedKey, readApiKey, usdDecimal } from './aiCliInput';
import { currentSession } from './CliSession';
import { parseFlags, positiveInteger } from './flags';
import {
  type Column,
  formatTable,
  formatTime,
  outputFormatOf,
  printJson,
  printResult,
  printRows,
} from './output';

const byokColumns: Column<ByokKey>[] = [
  { header: 'PROVIDER', value: (k) => k.provider },
  { header: 'KIND', value: (k) => k.providerKind },
  { header: 'BYOK', value: (k) => k.byok },
  { header: 'YOUR KEY', value: (k) => maskedKey(k.last4) },
  { header: 'SET', value: (k) => formatTime(k.createdAt) },
];

const orNone = (value: number | null, prefix = '') => (value === null ? '-' : `${prefix}${value}`);
const limitColumns: Column<AiLimits>[] = [
  { header: 'USER', value: (l) => (l.user === '*' ? '* (default)' : l.user) },
  { header: 'DAILY', value: (l) => orNone(l.dailyUsd, '$') },
  { header: 'MONTHLY', value: (l) => orNone(l.monthlyUsd, '$') },
  { header: 'RPM', value: (l) => orNone(l.rpm) },
  { header: 'TPM', value: (l) => orNone(l.tpm) },
];

function policyText(policy: AiPolicy): string {
  const models = policy.restricted
    ? formatTable(
        [
          { header: 'ROLE', value: (r: AiPolicy['roleModels'][number]) => r.role },
          { header: 'MODELS', value: (r: AiPolicy['roleModels'][number]) => r.patterns.join(' ') },
        ],
        policy.roleModels,
      )
    : 'No role has a model list: everyone may use every enabled model.';
  const limits = policy.limits.length
    ? formatTable(limitColumns, policy.limits)
    : 'No budgets or rate limits.';
  return `${models}\n\n${limits}`;
}

function registerKeyCommands(ai: Command): void {
  const keys = ai.command('keys').description('your own provider keys (bring your own key)');

  keys
    .command('list')
    .description('the providers that take your own key, and the last 4 characters of yours')
    .action(async (_flags: unknown, command: Command) => {
      printRows(command, await currentSession().client.ai.byok.list.query(), byokColumns);
    });

  keys
    .command('set')
    .description('store your key for a provider (encrypted); it replaces the one you had')
    .argument('<provider>')
    .option('--key-stdin', 'read the key from stdin instead of prompting')
    .action(async (provider: string, flags: { keyStdin?: boolean }, command: Command) => {
      const session = currentSession();
      parseFlags(byokRefInput, { provider });
      const key = await readApiKey(Boolean(flags.keyStdin), provider);
      const saved = await session.client.ai.byok.set.mutate(
        parseFlags(setByokKeyInput, { provider, apiKey: key.reveal() }),
      );
      printResult(command, saved, `Saved your key for ${saved.provider} (${maskedKey(saved.last4)}).`);
    });

  keys
    .command('delete')
    .description('forget your key for a provider')
    .argument('<provider>')
    .action(async (provider: string, _flags: unknown, command: Command) => {
      await currentSession().client.ai.byok.delete.mutate(parseFlags(byokRefInput, { provider }));
      printResult(command, { provider, deleted: true }, `Deleted your key for ${provider}.`);
    });
}

interface LimitFlags {
  user?: string;
  dailyUsd?: number;
  monthlyUsd?: number;
  rpm?: number;
  tpm?: number;
  clear?: boolean;
}

function registerPolicyCommands(ai: Command): void {
  const policy = ai
    .command('policy')
    .description('which roles may use which models; budgets and rate limits');

  policy
    .command('show')
    .description('show the model lists per role and the limits (owners and auditors)')
    .action(async (_flags: unknown, command: Command) => {
      const current = await currentSession().client.ai.policy.get.query();
      if (outputFormatOf(command) === 'json') printJson(current);
      else process.stdout.write(`${policyText(current)}\n`);
    });

  policy
    .command('roles')
    .description(
      'set the models a role may use, as globs over provider/model (openai/*, */gpt-4.1*); ' +
        'once any role has a list, roles without one may use nothing',
    )
    .argument('<role>', `one of ${roles.join(', ')}`)
    .argument('[patterns...]', 'the globs; none with --clear')
    .option('--clear', "remove the role's list")
    .action(async (role: string, patterns: string[], flags: { clear?: boolean }, command: Command) => {
      if (!flags.clear && patterns.length === 0)
        throw new WarrenError('INVALID_INPUT', 'give at least one pattern, or --clear to remove the list');
      const input = parseFlags(setRoleModelsInput, {
        role: role as Role,
        patterns: flags.clear ? [] : patterns,
      });
      const saved = await currentSession().client.ai.policy.setRoleModels.mutate(input);
      const what = saved.patterns.length ? saved.patterns.join(' ') : 'no list';
      printResult(command, saved, `${saved.role}: ${what}.`);
    });

  policy
    .command('limits')
    .description(
      "set the budgets and rate limits of everyone (default) or one user; a user's row replaces the default",
    )
    .option('--user <username>', 'one user instead of the default for everyone')
    .option('--daily-usd <usd>', 'spend per UTC day', usdDecimal)
    .option('--monthly-usd <usd>', 'spend per calendar month', usdDecimal)
    .option('--rpm <n>', 'requests per minute', positiveInteger)
    .option('--tpm <n>', 'tokens per minute', positiveInteger)
    .option('--clear', 'remove the row (a user falls back to the default)')
    .action(async (flags: LimitFlags, command: Command) => {
      const input = {
        user: flags.user ?? '*',
        limits: flags.clear
          ? null
          : { dailyUsd: flags.dailyUsd, monthlyUsd: flags.monthlyUsd, rpm: flags.rpm, tpm: flags.tpm },
      };
      parseFlags(setLimitsInput, input);
      const saved = await currentSession().client.ai.policy.setLimits.mutate(input);
      const who = input.user === '*' ? 'everyone (default)' : input.user;
      printResult(command, saved, saved ? `Limits for ${who} saved.` : `Limits for ${who} removed.`);
    });
}

export function registerAiPolicyCommands(ai: Command): void {
  registerKeyCommands(ai);
  registerPolicyCommands(ai);
}
