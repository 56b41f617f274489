import { z } from 'zod';
import { roleSchema } from '../users/schemas';
import { MAX_USD_DECIMALS, usdToMicros } from './usdAmount';

export const providerKinds = ['openai', 'anthropic', 'google', 'openai-compatible'] as const;
export type AiProviderKind = (typeof providerKinds)[number];

/** Whether people may (allowed), must (required) or must not (forbidden) bring their own key. */
export const byokModes = ['allowed', 'required', 'forbidden'] as const;
export type ByokMode = (typeof byokModes)[number];

/** Where each kind of provider answers when no base URL is given; OpenAI-compatible servers need one. */
export const defaultBaseUrls: Readonly<Record<AiProviderKind, string | undefined>> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
  google: 'https://generativelanguage.googleapis.com',
  'openai-compatible': undefined,
};

export const providerNameSchema = z
  .string()
  .min(1, 'Provider name must not be empty.')
  .max(32, 'Provider name must be at most 32 characters.')
  .regex(
    /^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$/,
    'Provider name may use lowercase letters, digits, "-" and "_", and must start and end with a letter or digit.',
  );

/** The model id as the provider names it: gpt-4.1, claude-sonnet-4-5, llama3.1:8b, anthropic/claude-3.5-sonnet. */
export const modelNameSchema = z
  .string()
  .min(1, 'Model name must not be empty.')
  .max(200, 'Model name must be at most 200 characters.')
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$/,
    'Model name may use letters, digits and . _ : @ / + -, and must start with a letter or digit.',
  );

/** A glob over "provider/model": "*" matches any run of characters (slashes too), "?" one character. */
export const modelPatternSchema = z
  .string()
  .min(1, 'A model pattern must not be empty.')
  .max(200, 'A model pattern must be at most 200 characters.')
  .regex(
    /^[A-Za-z0-9._:@/+*?-]+$/,
    'A model pattern may use letters, digits, . _ : @ / + - and the wildcards * and ?.',
  );

function isPlainHttpUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    return (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password;
  } catch {
    return false;
  }
}

export const baseUrlSchema = z
  .string()
  .max(2000, 'Base URL must be at most 2000 characters.')
  .refine(isPlainHttpUrl, 'Base URL must be an http:// or https:// URL without a username or password.')
  .transform((url) => url.replace(/\/+$/, ''));

/** A provider API key as it is typed in; it becomes a Secret right after this schema. */
export const providerApiKeySchema = z
  .string()
  .min(8, 'An API key must be at least 8 characters.')
  .max(4096, 'An API key must be at most 4096 characters.')
  .regex(/^[\x21-\x7e]+$/, 'An API key must be printable ASCII without spaces.');

/** USD written as a decimal, at most 6 places, turned into exact micro-dollars. */
function usdAmount(what: string, max: number) {
  return z
    .number()
    .min(0, `${what} must not be negative.`)
    .max(max, `${what} must be at most ${max} USD.`)
    .refine(
      (usd) => usdToMicros(usd) !== undefined,
      `${what} may have at most ${MAX_USD_DECIMALS} decimal places (one micro-dollar).`,
    )
    .transform((usd) => usdToMicros(usd) as number);
}

/** USD per million tokens, in; micro-dollars per million tokens, out. */
const price = (what: string) => usdAmount(`The ${what} price`, 1_000_000);

export const createProviderInput = z
  .object({
    name: providerNameSchema,
    kind: z.enum(providerKinds),
    baseUrl: baseUrlSchema.optional(),
    byok: z.enum(byokModes).optional(),
    enabled: z.boolean().optional(),
    /** A first central key; more can be added with addKey. */
    apiKey: providerApiKeySchema.optional(),
  })
  .strict();

export const updateProviderInput = z
  .object({
    name: providerNameSchema,
    baseUrl: baseUrlSchema.optional(),
    byok: z.enum(byokModes).optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

export const providerRefInput = z.object({ name: providerNameSchema }).strict();

export const addProviderKeyInput = z
  .object({
    provider: providerNameSchema,
    apiKey: providerApiKeySchema,
    /** Lower is tried first; by default the new key goes last. */
    priority: z.number().int().min(0).max(1000).optional(),
  })
  .strict();

export const removeProviderKeyInput = z
  .object({ provider: providerNameSchema, id: z.string().min(1).max(64) })
  .strict();

export const listModelsInput = z.object({ provider: providerNameSchema.optional() }).strict().optional();

/** Creates the model or replaces its settings; omitted cache prices are 0, omitted enabled is true. */
export const upsertModelInput = z
  .object({
    provider: providerNameSchema,
    name: modelNameSchema,
    displayName: z.string().min(1).max(100).optional(),
    enabled: z.boolean().optional(),
    inputPrice: price('input'),
    outputPrice: price('output'),
    cacheReadPrice: price('cache read').optional(),
    cacheWritePrice: price('cache write').optional(),
  })
  .strict();

export const modelRefInput = z.object({ provider: providerNameSchema, name: modelNameSchema }).strict();

export const setByokKeyInput = z
  .object({ provider: providerNameSchema, apiKey: providerApiKeySchema })
  .strict();

export const byokRefInput = z.object({ provider: providerNameSchema }).strict();

/** Replaces the role's model patterns; an empty list removes the role's entries. */
export const setRoleModelsInput = z
  .object({
    role: roleSchema,
    patterns: z.array(modelPatternSchema).max(100, 'At most 100 patterns per role.'),
  })
  .strict();

/** '*' for everyone's default, or a username. */
export const limitsUserSchema = z
  .string()
  .max(32, 'User must be "*" or a username of at most 32 characters.')
  .regex(
    /^(?:\*|[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?)$/,
    'User must be "*" (everyone\'s default) or a username.',
  );

const perMinute = (what: string) =>
  z.number().int().min(1, `${what} per minute must be at least 1.`).max(100_000_000).nullable().optional();

/** A missing or null field means no limit of that kind. */
export const aiLimitsSchema = z
  .object({
    dailyUsd: usdAmount('The daily budget', 1_000_000_000).nullable().optional(),
    monthlyUsd: usdAmount('The monthly budget', 1_000_000_000).nullable().optional(),
    rpm: perMinute('Requests'),
    tpm: perMinute('Tokens'),
  })
  .strict();

/**
 * Sets the whole limits row of '*' or a user; a user's row replaces the default entirely.
 * `limits: null` removes the row (a user falls back to the default).
 */
export const setLimitsInput = z
  .object({ user: limitsUserSchema, limits: aiLimitsSchema.nullable() })
  .strict();

const isoTime = z.string().datetime({ offset: true, message: 'Time must be an ISO 8601 timestamp.' });

/** Which gateway calls: all fields narrow; `since` is inclusive and `until` exclusive. */
export const usageFilterSchema = z
  .object({
    user: z.string().max(32).optional(),
    model: z.string().max(200).optional(),
    provider: z.string().max(32).optional(),
    since: isoTime.optional(),
    until: isoTime.optional(),
    chatId: z.string().max(100).optional(),
  })
  .strict();
export type UsageFilter = z.output<typeof usageFilterSchema>;

export const listUsageInput = usageFilterSchema
  .extend({
    limit: z.number().int().min(1).max(1000).optional(),
    offset: z.number().int().min(0).max(10_000_000).optional(),
  })
  .strict()
  .optional();

/** The CSV export: GET with the usage filters as query parameters. */
export const USAGE_CSV_PATH = '/api/v2/ai/usage.csv';

export const usageGroupings = ['user', 'model', 'day'] as const;
export type UsageGrouping = (typeof usageGroupings)[number];

export const usageSummaryInput = usageFilterSchema.extend({ groupBy: z.enum(usageGroupings) }).strict();

/** What the APIs return. Prices are USD per million tokens; keys never appear beyond their last 4. */
export interface AiProviderKey {
  id: string;
  priority: number;
  last4: string;
  createdAt: string;
}

export interface AiProvider {
  id: string;
  name: string;
  kind: AiProviderKind;
  baseUrl: string;
  byok: ByokMode;
  enabled: boolean;
  keys: AiProviderKey[];
  modelCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface AiModelPrices {
  inputPrice: number;
  outputPrice: number;
  cacheReadPrice: number;
  cacheWritePrice: number;
}

export interface AiModel extends AiModelPrices {
  id: string;
  provider: string;
  name: string;
  /** "provider/model", what role patterns match. */
  ref: string;
  displayName: string | null;
  enabled: boolean;
  createdAt: string;
}

/** A model the caller may use, and whose key would pay for it ('missing': they must add their own first). */
export interface AvailableModel extends AiModelPrices {
  ref: string;
  provider: string;
  providerKind: AiProviderKind;
  name: string;
  displayName: string | null;
  keySource: 'central' | 'own' | 'missing';
}

/** A provider as a user sees it for their own keys. */
export interface ByokKey {
  provider: string;
  providerKind: AiProviderKind;
  byok: ByokMode;
  last4: string | null;
  createdAt: string | null;
}

export interface AiLimits {
  /** '*' for everyone's default, or a username. */
  user: string;
  dailyUsd: number | null;
  monthlyUsd: number | null;
  rpm: number | null;
  tpm: number | null;
  updatedAt: string;
}

export interface AiPolicy {
  /** False while no role has a model list: everyone may use every enabled model. */
  restricted: boolean;
  roleModels: { role: string; patterns: string[] }[];
  limits: AiLimits[];
}

export interface UsageRecord {
  id: string;
  time: string;
  username: string | null;
  provider: string | null;
  providerKind: string;
  model: string;
  endpoint: string;
  streaming: boolean;
  credential: string;
  status: number;
  error: string | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Exact, as a decimal string. */
  costUsd: string;
  ttfbMs: number | null;
  totalMs: number;
  overheadMs: number;
  chatId: string | null;
}

export interface UsageTotals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: string;
  /** Median time to first byte; null when no call had one. */
  p50TtfbMs: number | null;
}

export interface UsageSummary {
  groupBy: UsageGrouping;
  /** key: a username, "provider/model", or a UTC day (YYYY-MM-DD). */
  groups: (UsageTotals & { key: string })[];
  total: UsageTotals;
}
