import { USAGE_CSV_PATH } from '@warren/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcomeCode } from '../callProcedure';
import { dialects, rememberSecret, startTestDaemon, type TestDaemon } from '../harness';
import { addPerson, type Person } from '../signIn';
import { parseCsv, recordCall, userIdOf } from './aiAdminHelpers';

/** Just above 2^53 pico-dollars in three calls: a double would lose the last digit of the sum. */
const BIG = 4_000_000_000_000_001;
const at = (iso: string) => Date.parse(iso);
const FORMULA = "=cmd|' /C calc'!A0";
/** The JSON error body of a refused export. */
async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

const AWKWARD = 'upstream said "no, thanks"\nthen closed';

describe.each(dialects)('the AI usage record on %s', (dialect) => {
  let t: TestDaemon;
  let ownerToken: string;
  let auditor: Person;
  let alice: Person;
  let bob: Person;

  beforeAll(async () => {
    t = await startTestDaemon(dialect);
    ownerToken = (await t.setupOwner()).token;
    auditor = await addPerson(t, ownerToken, 'ada', ['auditor']);
    alice = await addPerson(t, ownerToken, 'alice');
    bob = await addPerson(t, ownerToken, 'bob');
    const owner = t.client(ownerToken);
    const openai = await owner.ai.providers.create.mutate({ name: 'openai', kind: 'openai' });
    const anthropic = await owner.ai.providers.create.mutate({ name: 'anthropic', kind: 'anthropic' });
    const [aliceId, bobId] = [await userIdOf(t, alice.token), await userIdOf(t, bob.token)];
    const base = { user_id: aliceId, provider_id: openai.id, model: 'gpt-4.1' };
    await recordCall(t, {
      ...base,
      time: at('2031-05-01T10:00:00Z'),
      input_tokens: 1000,
      output_tokens: 500,
      cache_read_tokens: 200,
      cost_pico_usd: BIG,
      ttfb_ms: 100,
      chat_id: 'chat-1',
    });
    await recordCall(t, {
      ...base,
      time: at('2031-05-01T11:00:00Z'),
      input_tokens: 10,
      output_tokens: 5,
      cost_pico_usd: BIG,
      ttfb_ms: 300,
    });
    await recordCall(t, {
      ...base,
      provider_id: anthropic.id,
      provider_kind: 'anthropic',
      endpoint: '/v1/messages',
      model: 'claude-sonnet-4-5',
      time: at('2031-05-02T09:00:00Z'),
      input_tokens: 7,
      output_tokens: 3,
      cache_write_tokens: 50,
      cost_pico_usd: BIG,
      ttfb_ms: 200,
      status: 502,
      error: FORMULA,
    });
    // A provider since deleted: the call keeps its kind, and its user is bob.
    await recordCall(t, {
      user_id: bobId,
      provider_id: 'gone',
      model: 'gpt-4.1-mini',
      time: at('2031-05-02T12:00:00Z'),
      input_tokens: 100,
      output_tokens: 50,
      cost_pico_usd: 123_000_000,
      status: 429,
      error: AWKWARD,
      chat_id: '@chat',
    });
  });
  afterAll(() => t?.close());

  it('a member sees only their own calls, newest first, and may not ask for anyone else’s', async () => {
    const mine = await t.client(alice.token).ai.usage.list.query({});
    expect(mine.map((r) => [r.username, r.model, r.time])).toEqual([
      ['alice', 'claude-sonnet-4-5', '2031-05-02T09:00:00.000Z'],
      ['alice', 'gpt-4.1', '2031-05-01T11:00:00.000Z'],
      ['alice', 'gpt-4.1', '2031-05-01T10:00:00.000Z'],
    ]);
    expect(mine[2]).toMatchObject({
      provider: 'openai',
      inputTokens: 1000,
      outputTokens: 500,
      cacheReadTokens: 200,
      costUsd: '4000.000000000001',
      ttfbMs: 100,
      chatId: 'chat-1',
      streaming: false,
      credential: 'central',
    });
    expect(await t.client(alice.token).ai.usage.list.query({ user: 'alice', limit: 1 })).toHaveLength(1);
    await expect(t.client(alice.token).ai.usage.list.query({ user: 'bob' })).rejects.toThrow(
      "You can only see your own AI usage; owners and auditors see everyone's.",
    );
    expect(
      await outcomeCode(t.client(bob.token).ai.usage.summary.query({ groupBy: 'user', user: 'alice' })),
    ).toBe('FORBIDDEN');
  });

  it('an auditor sees everyone’s calls and narrows them by user, model, provider, time and chat', async () => {
    const list = (filter: Parameters<ReturnType<TestDaemon['client']>['ai']['usage']['list']['query']>[0]) =>
      t.client(auditor.token).ai.usage.list.query(filter);
    expect(await list({})).toHaveLength(4);
    expect((await list({ user: 'bob' })).map((r) => [r.username, r.provider, r.providerKind])).toEqual([
      ['bob', null, 'openai'],
    ]);
    expect(await list({ model: 'gpt-4.1' })).toHaveLength(2);
    expect((await list({ provider: 'anthropic' })).map((r) => r.model)).toEqual(['claude-sonnet-4-5']);
    expect(await list({ since: '2031-05-02T00:00:00Z' })).toHaveLength(2);
    expect(await list({ until: '2031-05-02T00:00:00Z' })).toHaveLength(2);
    expect((await list({ chatId: 'chat-1' })).map((r) => r.ttfbMs)).toEqual([100]);
    expect(await list({ limit: 1, offset: 3 })).toHaveLength(1);
    expect(await outcomeCode(list({ user: 'nobody' }))).toBe('NOT_FOUND');
  });

  it('summaries total requests, tokens and exact cost, with the median time to first byte', async () => {
    const mine = await t.client(alice.token).ai.usage.summary.query({ groupBy: 'day' });
    expect(mine.total).toEqual({
      requests: 3,
      inputTokens: 1017,
      outputTokens: 508,
      cacheReadTokens: 200,
      cacheWriteTokens: 50,
      costUsd: '12000.000000000003',
      p50TtfbMs: 200,
    });
    expect(mine.groups.map((g) => [g.key, g.requests, g.costUsd, g.p50TtfbMs])).toEqual([
      ['2031-05-01', 2, '8000.000000000002', 100],
      ['2031-05-02', 1, '4000.000000000001', 200],
    ]);

    const auditorView = t.client(auditor.token).ai.usage.summary;
    const byUser = await auditorView.query({ groupBy: 'user' });
    expect(byUser.groups.map((g) => [g.key, g.requests, g.costUsd, g.p50TtfbMs])).toEqual([
      ['alice', 3, '12000.000000000003', 200],
      ['bob', 1, '0.000123', null],
    ]);
    expect(byUser.total).toMatchObject({ requests: 4, inputTokens: 1117, costUsd: '12000.000123000003' });

    const byModel = await auditorView.query({ groupBy: 'model', since: '2031-05-01T10:30:00Z' });
    expect(byModel.groups.map((g) => [g.key, g.requests, g.outputTokens])).toEqual([
      ['anthropic/claude-sonnet-4-5', 1, 3],
      ['openai/gpt-4.1', 1, 5],
      ['openai/gpt-4.1-mini', 1, 50],
    ]);
    const empty = await auditorView.query({ groupBy: 'day', since: '2040-01-01T00:00:00Z' });
    expect(empty).toEqual({
      groupBy: 'day',
      groups: [],
      total: {
        requests: 0,
        inputTokens: 0,
        outputTokens: 0,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        costUsd: '0.00',
        p50TtfbMs: null,
      },
    });
  });

  const csv = (query: string, headers: Record<string, string>) =>
    fetch(`${t.url}${USAGE_CSV_PATH}${query}`, { headers });

  it('the CSV export is quoted so a spreadsheet reads back exactly what was recorded, and runs no formula', async () => {
    const response = await csv('', { authorization: `Bearer ${auditor.token}` });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="warren-ai-usage-/);
    const text = await response.text();
    expect(text.endsWith('\r\n')).toBe(true);
    const [header, ...rows] = parseCsv(text);
    expect(header?.slice(0, 5)).toEqual(['time', 'user', 'provider', 'provider_kind', 'model']);
    const column = (name: string) => header?.indexOf(name) ?? -1;
    expect(rows.map((r) => r[column('user')])).toEqual(['bob', 'alice', 'alice', 'alice']);
    const bobs = rows[0] ?? [];
    expect(bobs[column('error')]).toBe(AWKWARD);
    expect(bobs[column('chat_id')]).toBe("'@chat");
    expect(bobs[column('cost_usd')]).toBe('0.000123');
    expect(rows[1]?.[column('error')]).toBe(`'${FORMULA}`);
    expect(rows[3]?.[column('cost_usd')]).toBe('4000.000000000001');
  });

  it('the CSV export takes the filters as query parameters and a session cookie, with the same visibility', async () => {
    const login = await fetch(`${t.url}/api/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'alice', password: alice.password, sessionIn: 'cookie' }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    rememberSecret(cookie.split('=')[1] ?? '');
    const mine = parseCsv(await (await csv('?model=gpt-4.1', { cookie })).text());
    expect(mine.slice(1).map((r) => [r[1], r[4]])).toEqual([
      ['alice', 'gpt-4.1'],
      ['alice', 'gpt-4.1'],
    ]);
    expect(parseCsv(await (await csv('', { authorization: `Bearer ${bob.token}` })).text())).toHaveLength(2);

    const refused = await csv('?user=bob', { cookie });
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).code).toBe('FORBIDDEN');
    const crossSite = await csv('', { cookie, origin: 'https://evil.example.com' });
    expect(crossSite.status).toBe(403);
  });

  it('the CSV export refuses strangers and unknown filters with a JSON error', async () => {
    const anonymous = await csv('', {});
    expect(anonymous.status).toBe(401);
    expect(await errorOf(anonymous)).toEqual({
      code: 'UNAUTHORIZED',
      message: 'You are not signed in. Run "warren login" or sign in again.',
    });
    expect((await csv('', { authorization: 'Bearer wrn_nope' })).status).toBe(401);
    const unknown = await csv('?surprise=1', { authorization: `Bearer ${auditor.token}` });
    expect(unknown.status).toBe(400);
    expect((await errorOf(unknown)).message).toContain('surprise');
    const badTime = await csv('?since=yesterday', { authorization: `Bearer ${auditor.token}` });
    expect((await errorOf(badTime)).message).toContain('ISO 8601');
  });
});
