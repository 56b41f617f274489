import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, rememberSecret, startTestDaemon, type TestDaemon } from './harness';

describe.each(dialects)('a fresh daemon on %s', (dialect) => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon(dialect);
  });
  afterAll(() => t?.close());

  it('asks for the first user, who becomes owner and can sign in', async () => {
    expect(await t.client().setup.status.query()).toEqual({ needsFirstUser: true });
    const { token } = await t.setupOwner();
    const me = await t.client(token).auth.whoami.query();
    expect(me.roles).toContain('owner');
    expect(await t.client().setup.status.query()).toEqual({ needsFirstUser: false });
  });
});

describe('the suite-wide database scan', () => {
  it('catches a secret stored in the clear', async () => {
    const t = await startTestDaemon('sqlite');
    const planted = rememberSecret(`planted-${Date.now()}-secret`);
    await t.daemon.db.kysely
      .insertInto('deployment_flags')
      .values({ key: 'oops', value: `x${planted}x` })
      .execute();
    await expect(t.close()).rejects.toThrow('Secrets stored in the clear: deployment_flags.value');
  });
});
