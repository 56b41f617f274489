import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callProcedure, outcomeCode } from './callProcedure';
import { dialects, startTestDaemon, type TestDaemon } from './harness';
import { newPassword } from './procedureCatalog';
import { addPerson, signIn } from './signIn';

describe.each(dialects)('setting up a fresh server on %s', (dialect) => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon(dialect);
  });
  afterAll(() => t?.close());

  it('of several people racing to create the first user, exactly one becomes owner', async () => {
    const racers = Array.from({ length: 8 }, (_, i) => ({
      username: `first-${i}`,
      email: `first-${i}@example.com`,
      password: newPassword(`first-${i}`),
    }));
    const outcomes = await Promise.all(
      racers.map((input) => callProcedure(t.url, 'setup.createFirstUser', 'mutation', { input })),
    );

    const statuses = outcomes.map((o) => o.status).sort();
    expect(statuses).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    const winner = racers[outcomes.findIndex((o) => o.status === 200)];
    if (!winner) throw new Error('nobody won the setup race');
    const owner = await signIn(t, winner.username, winner.password);
    const everyone = await t.client(owner).users.list.query();
    expect(everyone.map((u) => [u.username, u.roles])).toEqual([[winner.username, ['owner', 'member']]]);
    expect(await t.client().setup.status.query()).toEqual({ needsFirstUser: false });
  });
});

describe.each(dialects)('managing users on %s', (dialect) => {
  let t: TestDaemon;
  let owner: string;
  beforeAll(async () => {
    t = await startTestDaemon(dialect);
    owner = (await t.setupOwner()).token;
  });
  afterAll(() => t?.close());

  it('100 concurrent creations over 10 names create each name once and answer the rest with CONFLICT', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `racer-${i}`);
    const password = newPassword('racer');
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, (_, i) => {
        const username = names[i % names.length];
        const input = { username, email: `${username}-${i}@example.com`, password };
        return callProcedure(t.url, 'users.create', 'mutation', { token: owner, input });
      }),
    );

    const created = outcomes
      .filter((o) => o.status === 200)
      .map((o) => JSON.parse(o.text).result.data.username);
    expect(created.sort()).toEqual(names);
    expect(outcomes.filter((o) => o.status !== 200).map((o) => o.code)).toEqual(Array(90).fill('CONFLICT'));
    const listed = await t.client(owner).users.list.query({ search: 'racer-' });
    expect(listed.map((u) => u.username)).toEqual(names);
  });

  it('an email address is taken whatever its case, and the refusal names it', async () => {
    await addPerson(t, owner, 'ivan');
    const outcome = await callProcedure(t.url, 'users.create', 'mutation', {
      token: owner,
      input: { username: 'ivan-two', email: 'IVAN@example.com', password: newPassword('ivan-two') },
    });
    expect(outcome.code).toBe('CONFLICT');
    expect(outcome.message).toMatch(/email "IVAN@example.com"/i);
  });

  it('a new user signs in with their password and holds exactly the roles granted', async () => {
    const judy = await addPerson(t, owner, 'judy', ['auditor']);
    const me = await t.client(judy.token).auth.whoami.query();
    expect(me).toMatchObject({ username: 'judy', email: 'judy@example.com', status: 'active' });
    expect(me.roles).toEqual(['auditor', 'member']);
  });

  it('a user admin manages members but not the owner, and cannot make anyone owner', async () => {
    const admin = await addPerson(t, owner, 'kim', ['user-admin']);
    await addPerson(t, owner, 'leo');
    const asAdmin = t.client(admin.token);
    expect(await outcomeCode(asAdmin.users.suspend.mutate({ username: 'leo' }))).toBe('OK');
    expect(await outcomeCode(asAdmin.users.activate.mutate({ username: 'leo' }))).toBe('OK');
    expect(await outcomeCode(asAdmin.users.setRoles.mutate({ username: 'leo', roles: ['auditor'] }))).toBe(
      'OK',
    );
    expect(await outcomeCode(asAdmin.users.suspend.mutate({ username: 'owner' }))).toBe('FORBIDDEN');
    expect(await outcomeCode(asAdmin.users.setRoles.mutate({ username: 'owner', roles: [] }))).toBe(
      'FORBIDDEN',
    );
    expect(await outcomeCode(asAdmin.users.setRoles.mutate({ username: 'leo', roles: ['owner'] }))).toBe(
      'FORBIDDEN',
    );
    expect(
      await outcomeCode(
        asAdmin.users.create.mutate({
          username: 'mallory',
          email: 'mallory@example.com',
          password: newPassword('mallory'),
          roles: ['owner'],
        }),
      ),
    ).toBe('FORBIDDEN');
    const leo = await t.client(owner).users.list.query({ search: 'leo' });
    expect(leo.map((u) => [u.status, u.roles])).toEqual([['active', ['auditor', 'member']]]);
  });

  it('nobody can suspend themselves, not even the owner', async () => {
    expect(await outcomeCode(t.client(owner).users.suspend.mutate({ username: 'owner' }))).toBe('FORBIDDEN');
  });

  it('suspending or changing someone who does not exist says so', async () => {
    const outcome = await callProcedure(t.url, 'users.suspend', 'mutation', {
      token: owner,
      input: { username: 'nobody' },
    });
    expect(outcome.code).toBe('NOT_FOUND');
    expect(outcome.message).toMatch(/"nobody"/);
  });
});
