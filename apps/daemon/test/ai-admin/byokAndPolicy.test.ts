import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcomeCode } from '../callProcedure';
import { dialects, startTestDaemon, type TestDaemon } from '../harness';
import { addPerson, type Person } from '../signIn';
import { watchKeys } from './aiAdminHelpers';

describe.each(dialects)("people's own keys and the model policy on %s", (dialect) => {
  let t: TestDaemon;
  let ownerToken: string;
  let alice: Person;
  let bob: Person;
  /** Every answer the API gives in this file: none may hold a full key. */
  const watch = watchKeys();
  const { newKey, keys } = watch;
  const as = (token: string) => watch.client(t.url, token);

  beforeAll(async () => {
    t = await startTestDaemon(dialect);
    ownerToken = (await t.setupOwner()).token;
    alice = await addPerson(t, ownerToken, 'alice');
    bob = await addPerson(t, ownerToken, 'bob');
    const owner = as(ownerToken);
    await owner.ai.providers.create.mutate({ name: 'openai', kind: 'openai', apiKey: newKey('central') });
    await owner.ai.providers.create.mutate({ name: 'anthropic', kind: 'anthropic', byok: 'required' });
    await owner.ai.providers.create.mutate({
      name: 'ollama',
      kind: 'openai-compatible',
      baseUrl: 'http://127.0.0.1:11434/v1',
      byok: 'forbidden',
    });
    await owner.ai.providers.create.mutate({ name: 'retired', kind: 'google', enabled: false });
    const prices = { inputPrice: 1, outputPrice: 2 };
    for (const [provider, name] of [
      ['openai', 'gpt-4.1'],
      ['openai', 'gpt-4.1-mini'],
      ['anthropic', 'claude-sonnet-4-5'],
      ['ollama', 'qwen3:32b'],
      ['retired', 'gemini-1.0-pro'],
    ] as const)
      await owner.ai.models.upsert.mutate({ provider, name, ...prices });
    await owner.ai.models.upsert.mutate({
      provider: 'openai',
      name: 'gpt-3.5-turbo',
      ...prices,
      enabled: false,
    });
  });
  afterAll(async () => {
    const leaks = watch.leaked();
    await t?.close();
    expect(leaks).toEqual([]);
  });

  it('each person sees and replaces only their own key, and it is stored encrypted', async () => {
    const aliceKey = newKey('alice');
    const bobKey = newKey('bob');
    expect(await as(alice.token).ai.byok.set.mutate({ provider: 'openai', apiKey: aliceKey })).toEqual({
      provider: 'openai',
      last4: aliceKey.slice(-4),
    });
    await as(bob.token).ai.byok.set.mutate({ provider: 'openai', apiKey: bobKey });

    const mine = await as(alice.token).ai.byok.list.query();
    expect(mine.map((k) => [k.provider, k.byok, k.last4])).toEqual([
      ['anthropic', 'required', null],
      ['openai', 'allowed', aliceKey.slice(-4)],
      ['retired', 'allowed', null],
    ]);
    expect((await as(bob.token).ai.byok.list.query()).find((k) => k.provider === 'openai')?.last4).toBe(
      bobKey.slice(-4),
    );

    const rows = await t.daemon.db.kysely
      .selectFrom('user_provider_keys')
      .innerJoin('users', 'users.id', 'user_provider_keys.user_id')
      .select(['users.username', 'key_encrypted'])
      .orderBy('users.username')
      .execute();
    expect(rows.map((r) => r.username)).toEqual(['alice', 'bob']);
    expect(
      rows.filter((r) => r.key_encrypted.includes(aliceKey) || r.key_encrypted.includes(bobKey)),
    ).toEqual([]);
    expect(rows.map((r) => t.daemon.services.secrets.decrypt(r.key_encrypted).reveal())).toEqual([
      aliceKey,
      bobKey,
    ]);

    // Deleting is of one's own key only: bob's stays.
    await as(alice.token).ai.byok.delete.mutate({ provider: 'openai' });
    expect(await outcomeCode(as(alice.token).ai.byok.delete.mutate({ provider: 'openai' }))).toBe(
      'NOT_FOUND',
    );
    expect((await as(bob.token).ai.byok.list.query()).find((k) => k.provider === 'openai')?.last4).toBe(
      bobKey.slice(-4),
    );
  });

  it('a provider that forbids personal keys refuses one, saying so', async () => {
    await expect(
      as(alice.token).ai.byok.set.mutate({ provider: 'ollama', apiKey: newKey('forbidden') }),
    ).rejects.toThrow(
      'AI provider "ollama" does not take personal keys: this server uses its own key for it.',
    );
    expect(
      await outcomeCode(as(alice.token).ai.byok.set.mutate({ provider: 'ollama', apiKey: newKey('x') })),
    ).toBe('FORBIDDEN');
    const stored = await t.daemon.db.kysely.selectFrom('user_provider_keys').select('provider_id').execute();
    expect(stored).toHaveLength(1);
    const trail = JSON.stringify(await as(ownerToken).audit.list.query({ action: 'ai.byok', limit: 100 }));
    expect(keys.filter((key) => trail.includes(key))).toEqual([]);
  });

  it('a provider that requires personal keys is usable once the person adds theirs', async () => {
    const sonnet = async () =>
      (await as(alice.token).ai.models.available.query()).find(
        (m) => m.ref === 'anthropic/claude-sonnet-4-5',
      );
    expect(await sonnet()).toMatchObject({ keySource: 'missing' });
    await as(alice.token).ai.byok.set.mutate({ provider: 'anthropic', apiKey: newKey('alice-anthropic') });
    expect(await sonnet()).toMatchObject({ keySource: 'own' });
    const forBob = await as(bob.token).ai.models.available.query();
    expect(forBob.find((m) => m.ref === 'anthropic/claude-sonnet-4-5')?.keySource).toBe('missing');
    expect(forBob.find((m) => m.ref === 'openai/gpt-4.1')?.keySource).toBe('own');
    expect(forBob.find((m) => m.ref === 'ollama/qwen3:32b')?.keySource).toBe('central');
  });

  it('with no role lists everyone may use every enabled model of every enabled provider', async () => {
    const refs = (await as(alice.token).ai.models.available.query()).map((m) => m.ref);
    expect(refs).toEqual([
      'anthropic/claude-sonnet-4-5',
      'ollama/qwen3:32b',
      'openai/gpt-4.1',
      'openai/gpt-4.1-mini',
    ]);
    expect((await as(ownerToken).ai.policy.get.query()).restricted).toBe(false);
  });

  it('role lists narrow what a member may pick while the owner keeps everything', async () => {
    const owner = as(ownerToken);
    await owner.ai.policy.setRoleModels.mutate({
      role: 'member',
      patterns: ['openai/gpt-4.1-mini', 'ollama/*'],
    });
    const saved = await owner.ai.policy.setRoleModels.mutate({ role: 'owner', patterns: ['*', '*'] });
    expect(saved).toEqual({ role: 'owner', patterns: ['*'], restricted: true });

    const memberRefs = (await as(alice.token).ai.models.available.query()).map((m) => m.ref);
    expect(memberRefs).toEqual(['ollama/qwen3:32b', 'openai/gpt-4.1-mini']);
    const ownerRefs = (await owner.ai.models.available.query()).map((m) => m.ref);
    expect(ownerRefs).toEqual([
      'anthropic/claude-sonnet-4-5',
      'ollama/qwen3:32b',
      'openai/gpt-4.1',
      'openai/gpt-4.1-mini',
    ]);
    expect((await owner.ai.policy.get.query()).roleModels).toEqual([
      { role: 'member', patterns: ['ollama/*', 'openai/gpt-4.1-mini'] },
      { role: 'owner', patterns: ['*'] },
    ]);

    await owner.ai.policy.setRoleModels.mutate({ role: 'member', patterns: [] });
    expect(await as(alice.token).ai.models.available.query()).toEqual([]);
    await owner.ai.policy.setRoleModels.mutate({ role: 'owner', patterns: [] });
    expect((await owner.ai.policy.get.query()).restricted).toBe(false);
  });

  it('budgets and rate limits are set for everyone or one person, budgets in exact micro-dollars', async () => {
    const owner = as(ownerToken);
    const everyone = await owner.ai.policy.setLimits.mutate({
      user: '*',
      limits: { dailyUsd: 2.5, monthlyUsd: 40.123456, rpm: 60, tpm: 100_000 },
    });
    expect(everyone).toMatchObject({
      user: '*',
      dailyUsd: 2.5,
      monthlyUsd: 40.123456,
      rpm: 60,
      tpm: 100_000,
    });
    await owner.ai.policy.setLimits.mutate({ user: 'alice', limits: { rpm: 600 } });
    expect((await owner.ai.policy.get.query()).limits).toMatchObject([
      { user: '*', dailyUsd: 2.5, rpm: 60 },
      { user: 'alice', dailyUsd: null, monthlyUsd: null, rpm: 600, tpm: null },
    ]);
    const rows = await t.daemon.db.kysely
      .selectFrom('ai_limits')
      .select(['daily_budget', 'monthly_budget'])
      .where('user_id', '=', '*')
      .executeTakeFirstOrThrow();
    expect([Number(rows.daily_budget), Number(rows.monthly_budget)]).toEqual([2_500_000, 40_123_456]);

    expect(await owner.ai.policy.setLimits.mutate({ user: 'alice', limits: null })).toBeNull();
    expect((await owner.ai.policy.get.query()).limits.map((l) => l.user)).toEqual(['*']);
    expect(await outcomeCode(owner.ai.policy.setLimits.mutate({ user: 'nobody', limits: { rpm: 1 } }))).toBe(
      'NOT_FOUND',
    );
    await expect(
      owner.ai.policy.setLimits.mutate({ user: '*', limits: { dailyUsd: 0.0000001 } }),
    ).rejects.toThrow(/daily budget may have at most 6 decimal places/i);
    const trail = await owner.audit.list.query({ action: 'ai.policy.setLimits', limit: 10 });
    expect(trail.find((e) => e.targetId === 'alice' && e.status === 'ok')?.diff).toMatchObject({
      before: { user: 'alice', rpm: 600 },
      after: null,
    });
  });

  it('members cannot read or change the policy', async () => {
    expect(await outcomeCode(as(alice.token).ai.policy.get.query())).toBe('FORBIDDEN');
    expect(
      await outcomeCode(as(alice.token).ai.policy.setRoleModels.mutate({ role: 'member', patterns: ['*'] })),
    ).toBe('FORBIDDEN');
  });
});
