import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dialects } from '../harness';
import { addPerson, type Person } from '../signIn';
import {
  allowModels,
  anthropicAuth,
  callGateway,
  chatBody,
  expectProviderError,
  markRows,
  messagesBody,
  openAiAuth,
  recorded,
  setLimits,
  useGatewayWorld,
  userIdOf,
} from './gatewayFixtures';
import { OPENAI_CHAT_COST_PICO } from './wireSamples';

describe.each(dialects)('gateway policy: models, budgets and rate limits, on %s', (dialect) => {
  const w = useGatewayWorld(dialect);
  let people = 0;

  /** A fresh member, so limits and spend from other tests do not mix in. */
  async function member(roles: ('template-admin' | 'auditor')[] = []): Promise<Person & { id: string }> {
    people += 1;
    const person = await addPerson(w.t, w.owner.token, `gw-${dialect}-${people}`, roles);
    return { ...person, id: await userIdOf(w.t, person.username) };
  }

  it('with no model lists at all, everyone may use every enabled model', async () => {
    const person = await member();
    const reply = await callGateway(w.t, '/openai/v1/chat/completions', {
      headers: openAiAuth(person.token),
      body: chatBody(),
    });
    expect(reply.status).toBe(200);
  });

  it('refuses a model the caller’s roles do not allow with 403, and lists only allowed models', async () => {
    await allowModels(w.t, 'owner', '*');
    await allowModels(w.t, 'template-admin', 'anthropic/claude-*');
    const plain = await member();
    const admin = await member(['template-admin']);

    const refused = await callGateway(w.t, '/openai/v1/chat/completions', {
      headers: openAiAuth(plain.token),
      body: chatBody(),
    });
    expectProviderError(refused, 'openai', 403, 'invalid_request_error');
    expect(refused.json.error?.code).toBe('model_not_allowed');
    const refusedAnthropic = await callGateway(w.t, '/anthropic/v1/messages', {
      headers: anthropicAuth(plain.token),
      body: messagesBody(),
    });
    expectProviderError(refusedAnthropic, 'anthropic', 403, 'permission_error');

    expect(
      (
        await callGateway(w.t, '/anthropic/v1/messages', {
          headers: anthropicAuth(admin.token),
          body: messagesBody(),
        })
      ).status,
    ).toBe(200);
    const adminOpenAi = await callGateway(w.t, '/openai/v1/chat/completions', {
      headers: openAiAuth(admin.token),
      body: chatBody(),
    });
    expectProviderError(adminOpenAi, 'openai', 403, 'invalid_request_error');

    const openAiList = await callGateway(w.t, '/openai/v1/models', { headers: openAiAuth(w.owner.token) });
    expect(openAiList.json).toMatchObject({
      object: 'list',
      data: [{ id: 'gpt-4.1', object: 'model', owned_by: 'openai' }],
    });
    expect((await callGateway(w.t, '/openai/v1/models', { headers: openAiAuth(admin.token) })).json).toEqual({
      object: 'list',
      data: [],
    });
    const anthropicList = await callGateway(w.t, '/anthropic/v1/models', {
      headers: anthropicAuth(admin.token),
    });
    expect(anthropicList.json).toMatchObject({
      data: [{ type: 'model', id: 'claude-sonnet-4-5', display_name: 'claude-sonnet-4-5' }],
      has_more: false,
      first_id: 'claude-sonnet-4-5',
    });
    const one = await callGateway(w.t, '/anthropic/v1/models/claude-sonnet-4-5', {
      headers: anthropicAuth(admin.token),
    });
    expect(one.json).toMatchObject({ type: 'model', id: 'claude-sonnet-4-5' });
    // Put everyone back on every model for the tests that follow.
    await allowModels(w.t, 'member', '*');
  });

  it('answers a model it does not offer with 404 in the provider’s shape', async () => {
    const reply = await callGateway(w.t, '/openai/v1/chat/completions', {
      headers: openAiAuth(w.owner.token),
      body: chatBody({ model: 'gpt-9-imaginary' }),
    });
    expectProviderError(reply, 'openai', 404, 'invalid_request_error');
    expect(reply.json.error?.code).toBe('model_not_found');
  });

  it('refuses with 429 once today’s spend reaches the daily budget, and says when it resets', async () => {
    const person = await member();
    // One earlier call today cost exactly the budget: USD 0.001 = 1000 micro-dollars.
    await w.t.daemon.db.kysely
      .insertInto('gateway_interceptions')
      .values({
        id: randomUUID(),
        time: Date.now(),
        user_id: person.id,
        api_key_id: null,
        chat_id: null,
        provider_id: w.providers.openai,
        provider_kind: 'openai',
        endpoint: 'chat.completions',
        model: 'gpt-4.1',
        streaming: 0,
        credential: 'central',
        status: 200,
        error: null,
        input_tokens: 500,
        output_tokens: 0,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        cost_pico_usd: 1_000_000_000,
        total_ms: 1,
        overhead_ms: 0.1,
        tool_calls: '[]',
      })
      .execute();
    await setLimits(w.t, person.id, { dailyBudget: 1000 });
    const before = w.fake.requests.length;
    const reply = await callGateway(w.t, '/openai/v1/chat/completions', {
      headers: openAiAuth(person.token),
      body: chatBody(),
    });
    expectProviderError(reply, 'openai', 429, 'insufficient_quota');
    expect(Number(reply.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(reply.headers.get('retry-after'))).toBeLessThanOrEqual(86_400);
    expect(reply.headers.get('x-should-retry')).toBe('false');
    const anthropic = await callGateway(w.t, '/anthropic/v1/messages', {
      headers: anthropicAuth(person.token),
      body: messagesBody(),
    });
    expectProviderError(anthropic, 'anthropic', 429, 'rate_limit_error');
    expect(w.fake.requests.length).toBe(before);
  });

  it('counts each finished call’s cost at once: the call that crosses the monthly budget is the last one', async () => {
    const person = await member();
    // Just under one call's cost: the first call is admitted, the second is not.
    await setLimits(w.t, person.id, { monthlyBudget: OPENAI_CHAT_COST_PICO / 1e6 - 1 });
    const call = () =>
      callGateway(w.t, '/openai/v1/chat/completions', {
        headers: openAiAuth(person.token),
        body: chatBody(),
      });
    const since = await markRows(w.t);
    expect((await call()).status).toBe(200);
    const refused = await call();
    expectProviderError(refused, 'openai', 429, 'insufficient_quota');
    expect(refused.json.error?.message).toMatch(/monthly AI budget/);
    const rows = await recorded(w.t, since, 2);
    expect(rows.filter((r) => r.user_id === person.id).map((r) => r.status)).toEqual([200, 429]);
  });

  it('limits requests per minute with 429 and a retry-after', async () => {
    const person = await member();
    await setLimits(w.t, person.id, { requestsPerMinute: 2 });
    const call = () =>
      callGateway(w.t, '/anthropic/v1/messages', {
        headers: anthropicAuth(person.token),
        body: messagesBody(),
      });
    expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(200);
    const refused = await call();
    expectProviderError(refused, 'anthropic', 429, 'rate_limit_error');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });

  it('limits tokens per minute, counting a call’s tokens once it has finished', async () => {
    const person = await member();
    await setLimits(w.t, person.id, { tokensPerMinute: 1000 });
    const call = () =>
      callGateway(w.t, '/openai/v1/chat/completions', {
        headers: openAiAuth(person.token),
        body: chatBody(),
      });
    // The sample answer uses 1200 prompt + 35 completion tokens.
    expect((await call()).status).toBe(200);
    const refused = await call();
    expectProviderError(refused, 'openai', 429, 'tokens');
    expect(refused.json.error?.message).toMatch(/1000 tokens per minute/);
  });
});
