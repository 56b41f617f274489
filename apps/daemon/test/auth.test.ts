import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultThrottleLimits } from '../src/auth/LoginThrottle';
import { callProcedure, outcomeCode } from './callProcedure';
import { dialects, rememberSecret, startTestDaemon, type TestDaemon } from './harness';
import { SseStream } from './SseStream';
import { addPerson, signIn } from './signIn';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

describe.each(dialects)('sessions and tokens end when they should, on %s', (dialect) => {
  let t: TestDaemon;
  /** The daemon's clock: tests move it instead of waiting. */
  let clock = Date.now();
  let owner: { username: string; password: string };
  /** A fresh owner session per test, since tests move the clock past session lifetimes. */
  let admin: string;

  const whoami = (token: string) => callProcedure(t.url, 'auth.whoami', 'query', { token });
  const liveAudit = (token: string) =>
    SseStream.open(`${t.url}/api/trpc/audit.live`, { authorization: `Bearer ${token}` });

  beforeAll(async () => {
    t = await startTestDaemon(dialect, { now: () => clock });
    owner = await t.setupOwner();
  });
  beforeEach(async () => {
    admin = await signIn(t, owner.username, owner.password);
  });
  afterAll(() => t?.close());

  it('an API token works until its lifetime is up and is refused from the next request on', async () => {
    const { token } = await t
      .client(admin)
      .tokens.create.mutate({ name: 'short-lived', lifetimeSeconds: 60 });
    rememberSecret(token);
    expect((await whoami(token)).status).toBe(200);
    clock += 59_000;
    expect((await whoami(token)).status).toBe(200);
    clock += 2_000;
    const refused = await whoami(token);
    expect(refused.status).toBe(401);
    expect(refused.message).toMatch(/expired/);
  });

  it('a session is refused once its seven days are up', async () => {
    const session = await signIn(t, owner.username, owner.password);
    clock += 7 * DAY - MINUTE;
    expect((await whoami(session)).status).toBe(200);
    clock += 2 * MINUTE;
    const refused = await whoami(session);
    expect(refused.status).toBe(401);
    expect(refused.message).toMatch(/expired/);
  });

  it('a revoked token is refused on the very next request', async () => {
    const { id, token } = await t.client(admin).tokens.create.mutate({ name: 'to-revoke' });
    rememberSecret(token);
    expect((await whoami(token)).status).toBe(200);
    await t.client(admin).tokens.revoke.mutate({ id });
    const refused = await whoami(token);
    expect(refused.status).toBe(401);
    expect(refused.message).toMatch(/revoked/);
  });

  it('signing out revokes that session but not the API tokens the person made', async () => {
    const alice = await addPerson(t, admin, 'alice');
    const { token } = await t.client(alice.token).tokens.create.mutate({ name: 'laptop' });
    rememberSecret(token);
    await t.client(alice.token).auth.logout.mutate();
    const refused = await whoami(alice.token);
    expect(refused.status).toBe(401);
    expect(refused.message).toMatch(/revoked/);
    expect((await whoami(token)).status).toBe(200);
  });

  it('suspending someone refuses their sessions and tokens on the very next request, and their sign-in', async () => {
    const bob = await addPerson(t, admin, 'bob');
    const { token } = await t.client(bob.token).tokens.create.mutate({ name: 'ci' });
    rememberSecret(token);
    expect((await whoami(bob.token)).status).toBe(200);

    await t.client(admin).users.suspend.mutate({ username: 'bob' });
    for (const credential of [bob.token, token]) {
      const refused = await whoami(credential);
      expect(refused.status).toBe(401);
      expect(refused.message).toMatch(/suspended/);
    }
    expect(await outcomeCode(signIn(t, 'bob', bob.password))).toBe('FORBIDDEN');

    await t.client(admin).users.activate.mutate({ username: 'bob' });
    expect(await outcomeCode(signIn(t, 'bob', bob.password))).toBe('OK');
  });

  it('suspending someone ends their open live audit stream at once, and only theirs', async () => {
    const carol = await addPerson(t, admin, 'carol', ['auditor']);
    const carolStream = await liveAudit(carol.token);
    const ownerStream = await liveAudit(admin);
    try {
      expect(await carolStream.next(2_000)).toMatchObject({ event: 'connected' });
      expect(await ownerStream.next(2_000)).toMatchObject({ event: 'connected' });
      await t.client(admin).users.suspend.mutate({ username: 'carol' });
      expect(await carolStream.endsWithin(1_000)).toBe(true);
      expect(await ownerStream.endsWithin(200)).toBe(false);
    } finally {
      carolStream.close();
      ownerStream.close();
    }
  });

  it('revoking a token ends the live audit stream opened with it', async () => {
    const { id, token } = await t.client(admin).tokens.create.mutate({ name: 'watcher' });
    rememberSecret(token);
    const stream = await liveAudit(token);
    try {
      expect(await stream.next(2_000)).toMatchObject({ event: 'connected' });
      await t.client(admin).tokens.revoke.mutate({ id });
      expect(await stream.endsWithin(1_000)).toBe(true);
    } finally {
      stream.close();
    }
  });

  it('signing out ends the live audit stream of that session', async () => {
    const session = await signIn(t, owner.username, owner.password);
    const stream = await liveAudit(session);
    try {
      expect(await stream.next(2_000)).toMatchObject({ event: 'connected' });
      await t.client(session).auth.logout.mutate();
      expect(await stream.endsWithin(1_000)).toBe(true);
    } finally {
      stream.close();
    }
  });
});

describe.each(dialects)('sign-in throttling on %s', (dialect) => {
  /** Default per-account limit; a lower per-address limit keeps the test quick. */
  const limits = { ...defaultThrottleLimits, perIp: 12 };
  let t: TestDaemon;
  let clock = Date.now();
  let admin: string;

  const login = (name: string, password: string) =>
    callProcedure(t.url, 'auth.login', 'mutation', { input: { login: name, password, sessionIn: 'body' } });
  const failFiveTimes = async (name: string) => {
    for (let i = 0; i < limits.perUser; i++) expect((await login(name, 'wrong password!')).status).toBe(401);
  };

  beforeAll(async () => {
    t = await startTestDaemon(dialect, { now: () => clock, throttle: limits });
    admin = (await t.setupOwner()).token;
  });
  beforeEach(() => {
    // Each test starts after the previous one's failures have left the window.
    clock += limits.windowMs + 1_000;
  });
  afterAll(() => t?.close());

  it('five wrong passwords lock the account: even the right one gets 429 and Retry-After until the window passes', async () => {
    const dave = await addPerson(t, admin, 'dave');
    await failFiveTimes('dave');

    const locked = await login('dave', dave.password);
    expect(locked.status).toBe(429);
    expect(locked.code).toBe('TOO_MANY_REQUESTS');
    expect(Number(locked.headers.get('retry-after'))).toBe(limits.windowMs / 1000);
    expect(locked.message).toMatch(/Try again in \d+ seconds\./);

    clock += limits.windowMs / 2;
    const stillLocked = await login('dave', dave.password);
    expect(stillLocked.status).toBe(429);
    expect(Number(stillLocked.headers.get('retry-after'))).toBe(limits.windowMs / 2000);

    clock += limits.windowMs / 2 + 1_000;
    expect((await login('dave', dave.password)).status).toBe(200);
  });

  it('a locked account stays locked however the login is written (case, spaces, email)', async () => {
    const erin = await addPerson(t, admin, 'erin');
    await failFiveTimes('erin');
    const statusBySpelling: Record<string, number> = {};
    for (const spelling of ['ERIN', ' erin ', 'erin@example.com', 'Erin@Example.com']) {
      statusBySpelling[spelling] = (await login(spelling, erin.password)).status;
    }
    expect(statusBySpelling).toEqual({
      ERIN: 429,
      ' erin ': 429,
      'erin@example.com': 429,
      'Erin@Example.com': 429,
    });
  });

  it('locking one account leaves other people at the same address able to sign in', async () => {
    const frank = await addPerson(t, admin, 'frank');
    const grace = await addPerson(t, admin, 'grace');
    await failFiveTimes('frank');
    expect((await login('frank', frank.password)).status).toBe(429);
    expect((await login('grace', grace.password)).status).toBe(200);
  });

  it('many failures from one address, spread over usernames, lock that address until the window passes', async () => {
    const heidi = await addPerson(t, admin, 'heidi');
    for (let i = 0; i < limits.perIp; i++) {
      expect((await login(`nobody-${i}`, 'wrong password!')).status).toBe(401);
    }
    const locked = await login('heidi', heidi.password);
    expect(locked.status).toBe(429);
    expect(locked.message).toMatch(/your address/);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);

    clock += limits.windowMs + 1_000;
    expect((await login('heidi', heidi.password)).status).toBe(200);
  });
});
