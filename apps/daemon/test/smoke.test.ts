import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, startTestDaemon, type TestDaemon } from './harness';

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
