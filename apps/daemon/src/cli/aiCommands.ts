import {
  type AiModel,
  type AiProvider,
  type AvailableModel,
  addProviderKeyInput,
  byokModes,
  createProviderInput,
  modelRefInput,
  providerKinds,
  removeProviderKeyInput,
  updateProviderInput,
  upsertModelInput,
} from '@warren/core';
import { type Command, Option } from 'commander';
import { maskedKey, readApiKey, usdDecimal } from './aiCliInput';
import { registerAiPolicyCommands } from './aiPolicyCommands';
import { currentSession } from './CliSession';
import { parseFlags, positiveInteger } from './flags';
import { type Column, printResult, printRows } from './output';

const providerColumns: Column<AiProvider>[] = [
  { header: 'NAME', value: (p) => p.name },
  { header: 'KIND', value: (p) => p.kind },
  { header: 'BASE URL', value: (p) => p.baseUrl },
  { header: 'BYOK', value: (p) => p.byok },
  { header: 'ENABLED', value: (p) => (p.enabled ? 'yes' : 'no') },
  { header: 'KEYS', value: (p) => p.keys.map((k) => `${k.id} ${maskedKey(k.last4)}`).join(', ') || '-' },
  { header: 'MODELS', value: (p) => String(p.modelCount) },
];

const usd = (n: number) => `$${n}`;
const priceColumns: Column<AiModel | AvailableModel>[] = [
  { header: 'INPUT $/M', value: (m) => usd(m.inputPrice) },
  { header: 'OUTPUT $/M', value: (m) => usd(m.outputPrice) },
  { header: 'CACHE READ $/M', value: (m) => usd(m.cacheReadPrice) },
  { header: 'CACHE WRITE $/M', value: (m) => usd(m.cacheWritePrice) },
];

const modelColumns: Column<AiModel>[] = [
  { header: 'MODEL', value: (m) => m.ref },
  { header: 'ENABLED', value: (m) => (m.enabled ? 'yes' : 'no') },
  ...priceColumns,
];

const availableColumns: Column<AvailableModel>[] = [
  { header: 'MODEL', value: (m) => m.ref },
  {
    header: 'KEY',
    value: (m) => (m.keySource === 'missing' ? 'add your own (warren ai keys set)' : m.keySource),
  },
  ...priceColumns,
];

interface ProviderFlags {
  kind: string;
  baseUrl?: string;
  byok?: string;
  keyStdin?: boolean;
  disable?: boolean;
}

function registerProviderCommands(ai: Command): void {
  const providers = ai.command('providers').description('AI providers and their central keys (owners)');

  providers
    .command('list')
    .description('list providers, their keys (last 4 characters) and model counts')
    .action(async (_flags: unknown, command: Command) => {
      printRows(command, await currentSession().client.ai.providers.list.query(), providerColumns);
    });

  providers
    .command('create')
    .description('add a provider: openai, anthropic, google, or any OpenAI-compatible server')
    .argument('<name>', 'what people and role patterns call it, e.g. openai or ollama')
    .addOption(new Option('--kind <kind>', 'the API it speaks').choices(providerKinds).makeOptionMandatory())
    .option('--base-url <url>', 'where it answers (required for openai-compatible)')
    .addOption(new Option('--byok <mode>', "people's own keys (default allowed)").choices(byokModes))
    .option('--key-stdin', 'read a central API key from stdin')
    .option('--disable', 'add it switched off')
    .action(async (name: string, flags: ProviderFlags, command: Command) => {
      const session = currentSession();
      const fields = parseFlags(createProviderInput, {
        name,
        kind: flags.kind as AiProvider['kind'],
        baseUrl: flags.baseUrl,
        byok: flags.byok as AiProvider['byok'] | undefined,
        enabled: flags.disable ? false : undefined,
      });
      const key = flags.keyStdin ? await readApiKey(true, name) : undefined;
      const input = parseFlags(createProviderInput, { ...fields, apiKey: key?.reveal() });
      const provider = await session.client.ai.providers.create.mutate(input);
      const keyNote = provider.keys[0] ? ` with key ${maskedKey(provider.keys[0].last4)}` : '';
      printResult(
        command,
        provider,
        `Added provider ${provider.name} (${provider.kind}, ${provider.baseUrl})${keyNote}.`,
      );
    });

  providers
    .command('update')
    .description("change a provider's base URL, BYOK mode or whether it is enabled")
    .argument('<name>')
    .option('--base-url <url>', 'where it answers')
    .addOption(new Option('--byok <mode>', "people's own keys").choices(byokModes))
    .option('--enable', 'switch it on')
    .option('--disable', 'switch it off')
    .action(
      async (name: string, flags: Omit<ProviderFlags, 'kind'> & { enable?: boolean }, command: Command) => {
        const input = parseFlags(updateProviderInput, {
          name,
          baseUrl: flags.baseUrl,
          byok: flags.byok as AiProvider['byok'] | undefined,
          enabled: flags.enable ? true : flags.disable ? false : undefined,
        });
        const provider = await currentSession().client.ai.providers.update.mutate(input);
        printResult(command, provider, `Updated provider ${provider.name}.`);
      },
    );

  providers
    .command('delete')
    .description('delete a provider with its keys and models')
    .argument('<name>')
    .action(async (name: string, _flags: unknown, command: Command) => {
      await currentSession().client.ai.providers.delete.mutate({ name });
      printResult(command, { name, deleted: true }, `Deleted provider ${name}.`);
    });

  providers
    .command('add-key')
    .description('add a central key; keys are tried in priority order when one fails')
    .argument('<name>', 'the provider')
    .option('--key-stdin', 'read the key from stdin instead of prompting')
    .option('--priority <n>', 'lower is tried first (default: after the others)', positiveInteger)
    .action(async (name: string, flags: { keyStdin?: boolean; priority?: number }, command: Command) => {
      const session = currentSession();
      const key = await readApiKey(Boolean(flags.keyStdin), name);
      const input = parseFlags(addProviderKeyInput, {
        provider: name,
        apiKey: key.reveal(),
        priority: flags.priority,
      });
      const added = await session.client.ai.providers.addKey.mutate(input);
      printResult(
        command,
        added,
        `Added key ${added.id} (${maskedKey(added.last4)}) to ${name}, priority ${added.priority}.`,
      );
    });

  providers
    .command('remove-key')
    .description('remove a central key by its id (see providers list)')
    .argument('<name>', 'the provider')
    .argument('<id>')
    .action(async (name: string, id: string, _flags: unknown, command: Command) => {
      await currentSession().client.ai.providers.removeKey.mutate(
        parseFlags(removeProviderKeyInput, { provider: name, id }),
      );
      printResult(command, { provider: name, id, removed: true }, `Removed key ${id} from ${name}.`);
    });
}

interface ModelFlags {
  inputPrice: number;
  outputPrice: number;
  cacheReadPrice?: number;
  cacheWritePrice?: number;
  displayName?: string;
  disable?: boolean;
}

function registerModelCommands(ai: Command): void {
  const models = ai.command('models').description('the models each provider offers, and their prices');

  models
    .command('list')
    .description('list models with prices in USD per million tokens (owners and auditors)')
    .option('--provider <name>', "only this provider's models")
    .action(async (flags: { provider?: string }, command: Command) => {
      const list = await currentSession().client.ai.models.list.query({ provider: flags.provider });
      printRows(command, list, modelColumns);
    });

  models
    .command('available')
    .description('the models you may use')
    .action(async (_flags: unknown, command: Command) => {
      printRows(command, await currentSession().client.ai.models.available.query(), availableColumns);
    });

  models
    .command('set')
    .description('add a model or replace its settings; prices in USD per million tokens')
    .argument('<provider>')
    .argument('<model>', 'the id the provider uses, e.g. gpt-4.1 or claude-sonnet-4-5')
    .requiredOption('--input-price <usd>', 'per million input tokens', usdDecimal)
    .requiredOption('--output-price <usd>', 'per million output tokens', usdDecimal)
    .option('--cache-read-price <usd>', 'per million cached input tokens read (default 0)', usdDecimal)
    .option(
      '--cache-write-price <usd>',
      'per million input tokens written to the cache (default 0)',
      usdDecimal,
    )
    .option('--display-name <text>', 'what the model picker shows')
    .option('--disable', 'keep it listed but unusable')
    .action(async (provider: string, name: string, flags: ModelFlags, command: Command) => {
      const input = {
        provider,
        name,
        displayName: flags.displayName,
        enabled: !flags.disable,
        inputPrice: flags.inputPrice,
        outputPrice: flags.outputPrice,
        cacheReadPrice: flags.cacheReadPrice,
        cacheWritePrice: flags.cacheWritePrice,
      };
      // Checked here, but sent as typed: the schema's output is micro-dollars, the API takes USD.
      parseFlags(upsertModelInput, input);
      const model = await currentSession().client.ai.models.upsert.mutate(input);
      printResult(
        command,
        model,
        `Saved ${model.ref}${model.enabled ? '' : ' (disabled)'}: $${model.inputPrice} in, $${model.outputPrice} out per million tokens.`,
      );
    });

  models
    .command('delete')
    .description('delete a model')
    .argument('<provider>')
    .argument('<model>')
    .action(async (provider: string, name: string, _flags: unknown, command: Command) => {
      await currentSession().client.ai.models.delete.mutate(parseFlags(modelRefInput, { provider, name }));
      printResult(command, { provider, name, deleted: true }, `Deleted ${provider}/${name}.`);
    });
}

export function registerAiCommands(program: Command): void {
  const ai = program.command('ai').description('the AI gateway: providers, models, your keys, policy');
  registerProviderCommands(ai);
  registerModelCommands(ai);
  registerAiPolicyCommands(ai);
}
