import { randomBytes } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GatewayInterceptionsTable } from '../../src/db/schema';
import { dialects, rememberSecret, startTestDaemon, type TestDaemon } from '../harness';
import { type FakeModelProvider, type RecordedRequest, startFakeModelProvider } from './FakeModelProvider';
import { ANTHROPIC_MODEL, OPENAI_MODEL, type Outcome, type SdkClients, sdkScenarios } from './sdkScenarios';

/**
 * The official SDKs pointed at Warren's gateway with a Warren token get what they get from the
 * provider itself, streamed or not; the provider sees the central key, never the token; and each
 * call leaves one gateway_interceptions row with the provider's token counts and their exact cost.
 */

const GATEWAY = '/api/v2/aigateway';
/** USD per million tokens, as an owner types them; micro-dollars per million in the database. */
const OPENAI_PRICES = { inputPrice: 2, outputPrice: 8, cacheReadPrice: 0.5 };
const ANTHROPIC_PRICES = { inputPrice: 3, outputPrice: 15, cacheReadPrice: 0.3, cacheWritePrice: 3.75 };

function expectedCostPico(provider: 'openai' | 'anthropic', usage: Outcome['usage']): number {
  const p = provider === 'openai' ? { cacheWritePrice: 0, ...OPENAI_PRICES } : ANTHROPIC_PRICES;
  // One token at P micro-dollars per million costs P pico-dollars.
  return (
    usage.input * p.inputPrice * 1e6 +
    usage.output * p.outputPrice * 1e6 +
    usage.cacheRead * p.cacheReadPrice * 1e6 +
    usage.cacheWrite * p.cacheWritePrice * 1e6
  );
}

function sdkClients(openaiBase: string, anthropicBase: string, key: string): SdkClients {
  return {
    openai: new OpenAI({ apiKey: key, baseURL: openaiBase, maxRetries: 0, timeout: 10_000 }),
    anthropic: new Anthropic({ apiKey: key, baseURL: anthropicBase, maxRetries: 0, timeout: 10_000 }),
  };
}

/** Every header value the upstream received, flattened, to prove the Warren token is in none. */
function headerValues(request: RecordedRequest | undefined): string[] {
  return Object.values(request?.headers ?? {}).flatMap((value) =>
    Array.isArray(value) ? value : [value ?? ''],
  );
}

function credentialOf(request: RecordedRequest | undefined): string | undefined {
  const headers = request?.headers ?? {};
  if (typeof headers['x-api-key'] === 'string') return headers['x-api-key'];
  const auth = headers.authorization;
  return typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
}

describe.each(dialects)('the AI gateway on %s, driven by the official SDKs', (dialect) => {
  let t: TestDaemon;
  let fake: FakeModelProvider;
  let direct: SdkClients;
  let gateway: SdkClients;
  let warrenToken: string;
  let tokenId: string;
  let centralKey: string;

  beforeAll(async () => {
    centralKey = rememberSecret(`sk-central-${randomBytes(12).toString('hex')}`);
    fake = await startFakeModelProvider({ apiKey: centralKey });
    t = await startTestDaemon(dialect);
    const owner = await t.setupOwner();
    const api = t.client(owner.token);
    // The OpenAI SDK convention: the base URL ends in /v1. Anthropic's is the bare host.
    await api.ai.providers.create.mutate({
      name: 'openai',
      kind: 'openai',
      baseUrl: `${fake.url}/v1`,
      apiKey: centralKey,
    });
    await api.ai.providers.create.mutate({
      name: 'anthropic',
      kind: 'anthropic',
      baseUrl: fake.url,
      apiKey: centralKey,
    });
    await api.ai.models.upsert.mutate({ provider: 'openai', name: OPENAI_MODEL, ...OPENAI_PRICES });
    await api.ai.models.upsert.mutate({ provider: 'anthropic', name: ANTHROPIC_MODEL, ...ANTHROPIC_PRICES });
    const created = await api.tokens.create.mutate({ name: 'sdk-compat' });
    warrenToken = rememberSecret(created.token);
    tokenId = created.id;
    direct = sdkClients(`${fake.url}/v1`, fake.url, centralKey);
    gateway = sdkClients(`${t.url}${GATEWAY}/openai/v1`, `${t.url}${GATEWAY}/anthropic`, warrenToken);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  async function interceptions(): Promise<GatewayInterceptionsTable[]> {
    return (await t.daemon.db.kysely.selectFrom('gateway_interceptions').selectAll().execute()) as never;
  }

  /** The rows written since `before` (rows are written a few milliseconds after the call ends). */
  async function newRows(before: Set<string>, count: number): Promise<GatewayInterceptionsTable[]> {
    let rows: GatewayInterceptionsTable[] = [];
    await expect
      .poll(
        async () => {
          rows = (await interceptions()).filter((row) => !before.has(row.id));
          return rows.length;
        },
        { timeout: 5000 },
      )
      .toBe(count);
    return rows;
  }

  it('serves the provider endpoints below /api/v2/aigateway', async () => {
    const response = await fetch(`${t.url}${GATEWAY}/openai/v1/models`, {
      headers: { authorization: `Bearer ${warrenToken}` },
    });
    // A 404 here means the gateway is not mounted in server.ts yet: every test below fails with it.
    expect(response.status, await response.clone().text()).toBe(200);
  });

  for (const scenario of sdkScenarios) {
    it(`${scenario.name}: same result as the provider, central key upstream, one interception`, async () => {
      fake.script(scenario.script);
      const fromProvider = await scenario.run(direct);
      expect(fromProvider.outcome).toEqual(scenario.expected);

      const before = new Set((await interceptions()).map((row) => row.id));
      fake.reset();
      fake.script(scenario.script);
      const viaGateway = await scenario.run(gateway);
      expect(viaGateway.outcome).toEqual(fromProvider.outcome);
      if (scenario.streaming) expect(viaGateway.deltas).toBeGreaterThan(1);

      const upstream = fake.requests.at(-1);
      expect(fake.requests).toHaveLength(1);
      expect(credentialOf(upstream)).toBe(centralKey);
      expect(headerValues(upstream).some((value) => value.includes(warrenToken))).toBe(false);
      expect((upstream?.body as { model?: string } | undefined)?.model).toBe(
        scenario.provider === 'openai' ? OPENAI_MODEL : ANTHROPIC_MODEL,
      );

      const [row] = await newRows(before, 1);
      const usage = scenario.expected.usage;
      expect({
        provider_kind: row?.provider_kind,
        model: row?.model,
        streaming: Number(row?.streaming),
        credential: row?.credential,
        status: Number(row?.status),
        api_key_id: row?.api_key_id,
        input_tokens: Number(row?.input_tokens),
        output_tokens: Number(row?.output_tokens),
        cache_read_tokens: Number(row?.cache_read_tokens),
        cache_write_tokens: Number(row?.cache_write_tokens),
        cost_pico_usd: Number(row?.cost_pico_usd),
        tool_calls: JSON.parse(row?.tool_calls ?? 'null'),
      }).toEqual({
        provider_kind: scenario.provider,
        model: scenario.provider === 'openai' ? OPENAI_MODEL : ANTHROPIC_MODEL,
        streaming: scenario.streaming ? 1 : 0,
        credential: 'central',
        status: 200,
        api_key_id: tokenId,
        input_tokens: usage.input,
        output_tokens: usage.output,
        cache_read_tokens: usage.cacheRead,
        cache_write_tokens: usage.cacheWrite,
        cost_pico_usd: expectedCostPico(scenario.provider, usage),
        tool_calls: scenario.expected.toolCalls.map((call) => ({ id: call.id, name: call.name })),
      });
    });
  }

  it('streams as the provider streams, not once the reply is complete', async () => {
    fake.script([{ text: 'one two three four five six seven eight', chunkChars: 4, chunkDelayMs: 60 }]);
    const stream = gateway.anthropic.messages.stream({
      model: ANTHROPIC_MODEL,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'count' }],
    });
    const arrivals: number[] = [];
    stream.on('text', () => arrivals.push(Date.now()));
    await stream.finalMessage();
    expect(arrivals.length).toBeGreaterThan(5);
    // Ten deltas 60 ms apart: buffered, they would all arrive within a few milliseconds.
    expect((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThan(300);
  });

  it('counts Anthropic tokens as the provider does, with the central key', async () => {
    const request = {
      model: ANTHROPIC_MODEL,
      messages: [{ role: 'user' as const, content: 'How many tokens is this sentence?' }],
    };
    const fromProvider = await direct.anthropic.messages.countTokens(request);
    fake.reset();
    const viaGateway = await gateway.anthropic.messages.countTokens(request);
    expect(viaGateway).toEqual(fromProvider);
    expect(credentialOf(fake.requests.at(-1))).toBe(centralKey);
  });

  it('lists the models Warren offers in each provider format', async () => {
    const openaiIds: string[] = [];
    for await (const model of gateway.openai.models.list()) openaiIds.push(model.id);
    expect(openaiIds).toContain(OPENAI_MODEL);
    expect(openaiIds).not.toContain(ANTHROPIC_MODEL);
    const anthropicIds: string[] = [];
    for await (const model of gateway.anthropic.models.list()) anthropicIds.push(model.id);
    expect(anthropicIds).toContain(ANTHROPIC_MODEL);
    expect(anthropicIds).not.toContain(OPENAI_MODEL);
  });

  it('takes the Warren token as x-api-key on the Anthropic endpoint, as curl and older clients send it', async () => {
    fake.script([{ text: 'hi from x-api-key' }]);
    const response = await fetch(`${t.url}${GATEWAY}/anthropic/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': warrenToken,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        model: ANTHROPIC_MODEL,
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(((await response.json()) as { content: unknown }).content).toEqual([
      { type: 'text', text: 'hi from x-api-key' },
    ]);
    expect(credentialOf(fake.requests.at(-1))).toBe(centralKey);
  });

  it('refuses a wrong Warren token in the provider shape without calling the provider', async () => {
    const wrong = sdkClients(
      `${t.url}${GATEWAY}/openai/v1`,
      `${t.url}${GATEWAY}/anthropic`,
      'not-a-warren-token',
    );
    await expect(
      wrong.openai.chat.completions.create({
        model: OPENAI_MODEL,
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(
      wrong.anthropic.messages.create({
        model: ANTHROPIC_MODEL,
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    expect(fake.requests).toHaveLength(0);
  });

  it('passes a provider refusal through as the SDKs typed error', async () => {
    fake.script([
      { status: 400, message: 'messages.0.content: must not be empty' },
      { status: 400, message: 'max_tokens: must be at least 1' },
    ]);
    const openaiError = await gateway.openai.chat.completions
      .create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: '' }] })
      .catch((error: unknown) => error);
    expect(openaiError).toBeInstanceOf(OpenAI.BadRequestError);
    expect((openaiError as Error).message).toContain('must not be empty');
    const anthropicError = await gateway.anthropic.messages
      .create({ model: ANTHROPIC_MODEL, max_tokens: 1, messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error);
    expect(anthropicError).toBeInstanceOf(Anthropic.BadRequestError);
    expect((anthropicError as Error).message).toContain('max_tokens');
  });

  it('surfaces a rate-limited provider as a RateLimitError', async () => {
    // Enough 429s for any retry or key failover the gateway does with one key and one provider.
    fake.script(Array.from({ length: 5 }, () => ({ status: 429, retryAfterSeconds: 1 })));
    await expect(
      gateway.openai.chat.completions.create({
        model: OPENAI_MODEL,
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.RateLimitError);
  });
});
