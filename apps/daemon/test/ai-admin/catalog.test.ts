import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcomeCode } from '../callProcedure';
import { dialects, startTestDaemon, type TestDaemon } from '../harness';
import { addPerson } from '../signIn';
import { watchKeys } from './aiAdminHelpers';

describe.each(dialects)('AI providers, central keys and models on %s', (dialect) => {
  let t: TestDaemon;
  let ownerToken: string;
  /** Every answer the API gives in this file: none may hold a full key. */
  const watch = watchKeys();
  const { newKey, keys } = watch;
  const owner = () => watch.client(t.url, ownerToken);

  beforeAll(async () => {
    t = await startTestDaemon(dialect);
    ownerToken = (await t.setupOwner()).token;
  });
  afterAll(async () => {
    // The scan runs last, over the answers of every test above.
    const leaks = watch.leaked();
    await t?.close();
    expect(leaks).toEqual([]);
  });

  it('a central key is kept encrypted and shown by its last 4 characters only', async () => {
    const first = newKey('first');
    const created = await owner().ai.providers.create.mutate({
      name: 'openai',
      kind: 'openai',
      apiKey: first,
    });
    expect(created).toMatchObject({
      name: 'openai',
      baseUrl: 'https://api.openai.com/v1',
      byok: 'allowed',
      enabled: true,
      keys: [{ priority: 0, last4: first.slice(-4) }],
    });

    const second = newKey('second');
    const added = await owner().ai.providers.addKey.mutate({ provider: 'openai', apiKey: second });
    expect(added).toEqual({ id: expect.any(String), priority: 1, last4: second.slice(-4) });

    const [listed] = await owner().ai.providers.list.query();
    expect(listed?.keys.map((k) => [k.priority, k.last4])).toEqual([
      [0, first.slice(-4)],
      [1, second.slice(-4)],
    ]);

    const stored = await t.daemon.db.kysely
      .selectFrom('ai_provider_keys')
      .select(['key_encrypted', 'key_last4'])
      .orderBy('priority')
      .execute();
    expect(
      stored.map((row) => row.key_encrypted).filter((text) => text.includes(first) || text.includes(second)),
    ).toEqual([]);
    // Encrypted, not lost: the server's own box reads them back.
    expect(stored.map((row) => t.daemon.services.secrets.decrypt(row.key_encrypted).reveal())).toEqual([
      first,
      second,
    ]);
  });

  it('a removed key is gone and the others keep their order', async () => {
    const third = newKey('third');
    const added = await owner().ai.providers.addKey.mutate({
      provider: 'openai',
      apiKey: third,
      priority: 0,
    });
    await owner().ai.providers.removeKey.mutate({ provider: 'openai', id: added.id });
    const [listed] = await owner().ai.providers.list.query();
    expect(listed?.keys.map((k) => k.priority)).toEqual([0, 1]);
    expect(
      await outcomeCode(owner().ai.providers.removeKey.mutate({ provider: 'openai', id: added.id })),
    ).toBe('NOT_FOUND');
  });

  it('audit entries of provider and key changes hold no key, even for refused calls', async () => {
    const refused = newKey('refused');
    expect(await outcomeCode(owner().ai.providers.addKey.mutate({ provider: 'nope', apiKey: refused }))).toBe(
      'NOT_FOUND',
    );
    expect(
      await outcomeCode(
        owner().ai.providers.create.mutate({ name: 'openai', kind: 'openai', apiKey: newKey('dup') }),
      ),
    ).toBe('CONFLICT');
    const trail = await owner().audit.list.query({ action: 'ai', limit: 1000 });
    const text = JSON.stringify(trail);
    expect(keys.filter((key) => text.includes(key))).toEqual([]);
    expect(trail.find((e) => e.action === 'ai.providers.addKey' && e.status === 'error')?.diff).toMatchObject(
      {
        input: { provider: 'nope', apiKey: '[redacted]' },
      },
    );
    expect(trail.find((e) => e.action === 'ai.providers.addKey' && e.status === 'ok')).toMatchObject({
      targetType: 'ai_provider_key',
      diff: { after: { provider: 'openai', last4: expect.any(String) } },
    });
  });

  it('an OpenAI-compatible provider needs a base URL, which keeps no trailing slash', async () => {
    expect(
      await outcomeCode(owner().ai.providers.create.mutate({ name: 'ollama', kind: 'openai-compatible' })),
    ).toBe('INVALID_INPUT');
    const ollama = await owner().ai.providers.create.mutate({
      name: 'ollama',
      kind: 'openai-compatible',
      baseUrl: 'http://127.0.0.1:11434/v1/',
    });
    expect(ollama).toMatchObject({ baseUrl: 'http://127.0.0.1:11434/v1', keys: [] });
    const updated = await owner().ai.providers.update.mutate({
      name: 'ollama',
      byok: 'forbidden',
      enabled: false,
    });
    expect(updated).toMatchObject({
      byok: 'forbidden',
      enabled: false,
      baseUrl: 'http://127.0.0.1:11434/v1',
    });
  });

  it('prices are kept as exact micro-dollars and shown as the USD that was typed', async () => {
    const model = await owner().ai.models.upsert.mutate({
      provider: 'openai',
      name: 'gpt-4.1-mini',
      inputPrice: 0.075,
      outputPrice: 0.3,
      cacheReadPrice: 0.0375,
      cacheWritePrice: 123456.654321,
    });
    expect(model).toMatchObject({
      ref: 'openai/gpt-4.1-mini',
      inputPrice: 0.075,
      outputPrice: 0.3,
      cacheReadPrice: 0.0375,
      cacheWritePrice: 123456.654321,
      enabled: true,
    });
    const row = await t.daemon.db.kysely
      .selectFrom('ai_models')
      .select(['input_price', 'output_price', 'cache_read_price', 'cache_write_price'])
      .where('name', '=', 'gpt-4.1-mini')
      .executeTakeFirstOrThrow();
    expect(Object.values(row).map(Number)).toEqual([75_000, 300_000, 37_500, 123_456_654_321]);
  });

  it('a price with a seventh decimal place is refused, naming the price', async () => {
    const priced = (inputPrice: number) =>
      owner().ai.models.upsert.mutate({ provider: 'openai', name: 'gpt-4.1', inputPrice, outputPrice: 8 });
    await expect(priced(0.0750001)).rejects.toThrow(/input price may have at most 6 decimal places/i);
    await expect(priced(-1)).rejects.toThrow(/must not be negative/);
    expect(await outcomeCode(priced(0.000001))).toBe('OK');
  });

  it('setting a model again replaces its settings; deleting a provider takes its models and keys', async () => {
    const again = await owner().ai.models.upsert.mutate({
      provider: 'openai',
      name: 'gpt-4.1-mini',
      inputPrice: 0.1,
      outputPrice: 0.4,
      enabled: false,
    });
    expect(again).toMatchObject({ inputPrice: 0.1, cacheReadPrice: 0, cacheWritePrice: 0, enabled: false });
    expect((await owner().ai.models.list.query({ provider: 'openai' })).map((m) => m.name)).toEqual([
      'gpt-4.1',
      'gpt-4.1-mini',
    ]);
    await owner().ai.models.delete.mutate({ provider: 'openai', name: 'gpt-4.1' });
    expect(await outcomeCode(owner().ai.models.delete.mutate({ provider: 'openai', name: 'gpt-4.1' }))).toBe(
      'NOT_FOUND',
    );

    await owner().ai.providers.delete.mutate({ name: 'openai' });
    const k = t.daemon.db.kysely;
    expect(await k.selectFrom('ai_provider_keys').selectAll().execute()).toEqual([]);
    expect(await k.selectFrom('ai_models').selectAll().execute()).toEqual([]);
    expect((await owner().ai.providers.list.query()).map((p) => p.name)).toEqual(['ollama']);
  });

  it('members cannot read or change the catalog', async () => {
    const member = await addPerson(t, ownerToken, 'mia');
    const asMember = watch.client(t.url, member.token);
    expect(await outcomeCode(asMember.ai.providers.list.query())).toBe('FORBIDDEN');
    expect(
      await outcomeCode(
        asMember.ai.providers.addKey.mutate({ provider: 'ollama', apiKey: newKey('member') }),
      ),
    ).toBe('FORBIDDEN');
  });
});
