import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Secret } from '@warren/core';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import type { ProviderKind } from '../../src/db/schema';
import type { ModelPrices } from '../../src/gateway/cost';
import { OVERHEAD_HEADER } from '../../src/gateway/forwardedHeaders';
import { GATEWAY_PREFIX } from '../../src/gateway/gatewayRoutes';
import type { DaemonOptions } from '../../src/server';
import {
  type FakeModelProvider,
  type RecordedRequest,
  type ScriptedReply,
  startFakeModelProvider,
} from '../ai/FakeModelProvider';
import { rememberSecret, startTestDaemon, type TestDaemon, type TestDialect } from '../harness';
import {
  ANTHROPIC_PRICES,
  anthropicJson,
  OPENAI_PRICES,
  openAiChatJson,
  openAiResponsesJson,
} from './wireSamples';

/** A fresh provider key, remembered so the suite's log scan proves it was never logged. */
export function newProviderKey(prefix: string): string {
  return rememberSecret(`${prefix}-${randomBytes(16).toString('hex')}`);
}

const kysely = (t: TestDaemon) => t.daemon.db.kysely;

export async function addProvider(
  t: TestDaemon,
  provider: {
    name: string;
    kind: ProviderKind;
    baseUrl: string;
    byok?: 'allowed' | 'required' | 'forbidden';
    keys?: string[];
  },
): Promise<string> {
  const id = randomUUID();
  const now = Date.now();
  await kysely(t)
    .insertInto('ai_providers')
    .values({
      id,
      name: provider.name,
      kind: provider.kind,
      base_url: provider.baseUrl,
      byok: provider.byok ?? 'allowed',
      enabled: 1,
      created_at: now,
      updated_at: now,
    })
    .execute();
  for (const [priority, key] of (provider.keys ?? []).entries()) {
    await kysely(t)
      .insertInto('ai_provider_keys')
      .values({
        id: randomUUID(),
        provider_id: id,
        priority,
        key_encrypted: t.daemon.services.secrets.encrypt(new Secret(key)),
        key_last4: key.slice(-4),
        created_at: now + priority,
      })
      .execute();
  }
  await refresh(t);
  return id;
}

export async function addModel(
  t: TestDaemon,
  providerId: string,
  name: string,
  prices: ModelPrices,
): Promise<void> {
  await kysely(t)
    .insertInto('ai_models')
    .values({
      id: randomUUID(),
      provider_id: providerId,
      name,
      display_name: null,
      enabled: 1,
      input_price: prices.input,
      output_price: prices.output,
      cache_read_price: prices.cacheRead,
      cache_write_price: prices.cacheWrite,
      created_at: Date.now(),
    })
    .execute();
  await refresh(t);
}

export async function storeUserKey(
  t: TestDaemon,
  userId: string,
  providerId: string,
  key: string,
): Promise<void> {
  await kysely(t)
    .insertInto('user_provider_keys')
    .values({
      user_id: userId,
      provider_id: providerId,
      key_encrypted: t.daemon.services.secrets.encrypt(new Secret(key)),
      key_last4: key.slice(-4),
      created_at: Date.now(),
    })
    .execute();
  await refresh(t);
}

export async function allowModels(t: TestDaemon, role: string, pattern: string): Promise<void> {
  await kysely(t).insertInto('ai_role_models').values({ role, pattern }).execute();
  await refresh(t);
}

export async function setLimits(
  t: TestDaemon,
  userId: string,
  limits: {
    dailyBudget?: number;
    monthlyBudget?: number;
    requestsPerMinute?: number;
    tokensPerMinute?: number;
  },
): Promise<void> {
  await kysely(t)
    .insertInto('ai_limits')
    .values({
      user_id: userId,
      daily_budget: limits.dailyBudget ?? null,
      monthly_budget: limits.monthlyBudget ?? null,
      requests_per_minute: limits.requestsPerMinute ?? null,
      tokens_per_minute: limits.tokensPerMinute ?? null,
      updated_at: Date.now(),
    })
    .execute();
  await refresh(t);
}

/** What the admin side does after every change. */
export function refresh(t: TestDaemon): Promise<void> {
  return t.daemon.services.gateway.directory.invalidate();
}

export async function userIdOf(t: TestDaemon, username: string): Promise<string> {
  const row = await kysely(t)
    .selectFrom('users')
    .select('id')
    .where('username', '=', username)
    .executeTakeFirstOrThrow();
  return row.id;
}

export function gatewayUrl(t: TestDaemon, path: string): string {
  return `${t.url}${GATEWAY_PREFIX}${path}`;
}

export interface GatewayReply {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown> & { error?: Record<string, unknown>; type?: string };
}

/** One POST (or GET without a body) through the gateway over HTTP, read to the end. */
export async function callGateway(
  t: TestDaemon,
  path: string,
  options: { headers?: Record<string, string>; body?: unknown; method?: string } = {},
): Promise<GatewayReply> {
  const response = await fetch(gatewayUrl(t, path), {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let json: GatewayReply['json'] = {};
  try {
    json = JSON.parse(text);
  } catch {}
  // Every gateway response, errors included, says how long Warren took.
  expect(Number(response.headers.get(OVERHEAD_HEADER))).toBeGreaterThanOrEqual(0);
  return { status: response.status, headers: response.headers, text, json };
}

export type Interception = Awaited<ReturnType<typeof allInterceptions>>[number];

function allInterceptions(t: TestDaemon) {
  return kysely(t).selectFrom('gateway_interceptions').selectAll().orderBy('time').execute();
}

/** The rows there are now, so `recorded` can tell which ones a call added. */
export async function markRows(t: TestDaemon): Promise<Set<string>> {
  await t.daemon.services.gateway.settle();
  return new Set((await allInterceptions(t)).map((row) => row.id));
}

/** Rows are written just after the response ends: waits for `count` rows not in `before`. */
export async function recorded(t: TestDaemon, before: Set<string>, count = 1): Promise<Interception[]> {
  let rows: Interception[] = [];
  for (let i = 0; i < 200; i++) {
    rows = (await allInterceptions(t)).filter((row) => !before.has(row.id));
    if (rows.length >= count) break;
    await sleep(10);
  }
  return rows;
}

/** The provider-shaped error a client got, checked for shape: OpenAI's or Anthropic's. */
export function expectProviderError(
  reply: GatewayReply,
  family: 'openai' | 'anthropic',
  status: number,
  type: string,
): void {
  expect(reply.status, reply.text).toBe(status);
  if (family === 'anthropic') {
    expect(reply.json).toMatchObject({ type: 'error', error: { type } });
    expect(typeof reply.json.error?.message).toBe('string');
  } else {
    expect(reply.json.error).toMatchObject({ type, param: null });
    expect(typeof reply.json.error?.message).toBe('string');
  }
}

/**
 * The captured answer for each endpoint, not streamed, whatever the request asked: the costs and
 * token counts the tests expect are computed by hand from these (see wireSamples).
 */
export function capturedReply(request: RecordedRequest): ScriptedReply {
  const model = String((request.body as { model?: unknown } | undefined)?.model ?? 'unknown');
  if (request.path.endsWith('/chat/completions')) return { body: openAiChatJson(model) };
  if (request.path.endsWith('/responses')) return { body: openAiResponsesJson(model) };
  return { body: anthropicJson(model) };
}

/** An OpenAI and an Anthropic provider, one central key each, both answered by the fake at `fakeUrl`. */
export async function addFakeProviders(
  t: TestDaemon,
  fakeUrl: string,
  centralKeys: { openai: string; anthropic: string },
): Promise<{ openai: string; anthropic: string }> {
  return {
    openai: await addProvider(t, {
      name: 'openai',
      kind: 'openai',
      baseUrl: `${fakeUrl}/v1`,
      keys: [centralKeys.openai],
    }),
    anthropic: await addProvider(t, {
      name: 'anthropic',
      kind: 'anthropic',
      baseUrl: fakeUrl,
      keys: [centralKeys.anthropic],
    }),
  };
}

/** A daemon with an OpenAI and an Anthropic provider (one central key each) in front of one fake. */
export interface GatewayWorld {
  t: TestDaemon;
  /** Answers with the captured samples (any key accepted) unless a test scripts otherwise. */
  fake: FakeModelProvider;
  owner: { token: string; userId: string };
  providers: { openai: string; anthropic: string };
  centralKeys: { openai: string; anthropic: string };
  close(): Promise<void>;
}

async function startGatewayWorld(dialect: TestDialect, options: DaemonOptions = {}): Promise<GatewayWorld> {
  const fake = await startFakeModelProvider({
    acceptAnyKey: true,
    defaultReply: capturedReply,
    countTokens: 42,
  });
  const t = await startTestDaemon(dialect, options);
  const { token, username } = await t.setupOwner();
  const centralKeys = {
    openai: newProviderKey('sk-central-openai'),
    anthropic: newProviderKey('sk-ant-central'),
  };
  const providers = await addFakeProviders(t, fake.url, centralKeys);
  await addModel(t, providers.openai, 'gpt-4.1', OPENAI_PRICES);
  await addModel(t, providers.anthropic, 'claude-sonnet-4-5', ANTHROPIC_PRICES);
  return {
    t,
    fake,
    owner: { token, userId: await userIdOf(t, username) },
    providers,
    centralKeys,
    close: async () => {
      await t.close();
      await fake.close();
    },
  };
}

/**
 * The suite's world, started once before its tests with `env` set while the daemon starts, the
 * fake reset to its captured answers before each test, and closed after. The object returned is
 * filled in by beforeAll, so a suite can hold it from the start.
 */
export function useGatewayWorld(
  dialect: TestDialect,
  setup: { env?: Record<string, string> } = {},
): GatewayWorld {
  const world = {} as GatewayWorld;
  beforeAll(async () => {
    const previous = Object.keys(setup.env ?? {}).map((name) => [name, process.env[name]] as const);
    Object.assign(process.env, setup.env);
    try {
      Object.assign(world, await startGatewayWorld(dialect));
    } finally {
      for (const [name, value] of previous) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
  beforeEach(() => world.fake.reset());
  afterAll(() => world.close?.());
  return world;
}

export const openAiAuth = (token: string) => ({ authorization: `Bearer ${token}` });
export const anthropicAuth = (token: string) => ({ 'x-api-key': token, 'anthropic-version': '2023-06-01' });
export const chatBody = (extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4.1',
  messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
  ...extra,
});
export const messagesBody = (extra: Record<string, unknown> = {}) => ({
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  messages: [{ role: 'user', content: 'Read the README.' }],
  ...extra,
});
