import type { AuditEntry } from '@warren/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callProcedure, outcomeCode } from './callProcedure';
import { dialects, rememberSecret, startTestDaemon, type TestDaemon } from './harness';
import { newPassword, procedureCatalog, sampleApiKey, sampleInput } from './procedureCatalog';
import { SseStream } from './SseStream';
import { addPerson, type Person, signIn } from './signIn';

const NINE = '2031-03-01T09:00:00.000Z';
const TEN = '2031-03-01T10:00:00.000Z';

describe.each(dialects)('the audit trail on %s', (dialect) => {
  let t: TestDaemon;
  let clock = Date.parse(NINE);
  let owner: { token: string; password: string; id: string; sessionKey: string };
  let auditor: Person;
  let member: Person & { id: string; sessionKey: string };
  let automation: { id: string; token: string };
  let ci: { id: string; token: string };
  /** Every password and token this scenario used: none may appear in any entry. */
  const secrets: string[] = [];
  const remember = (value: string) => {
    secrets.push(rememberSecret(value));
    return value;
  };
  const fullTrail = (token: string) => t.client(token).audit.list.query({ limit: 1000 });

  beforeAll(async () => {
    t = await startTestDaemon(dialect, { now: () => clock });

    // At nine: setup, two people, and a failed sign-in.
    const setup = await t.setupOwner();
    const ownerMe = await t.client(setup.token).auth.whoami.query();
    owner = { ...setup, id: ownerMe.id, sessionKey: ownerMe.apiKeyId };
    remember(owner.password);
    remember(owner.token);
    auditor = await addPerson(t, owner.token, 'ada', ['auditor']);
    const max = await addPerson(t, owner.token, 'max');
    const maxMe = await t.client(max.token).auth.whoami.query();
    member = { ...max, id: maxMe.id, sessionKey: maxMe.apiKeyId };
    for (const secret of [auditor.password, auditor.token, member.password, member.token]) remember(secret);
    const wrongPassword = remember(newPassword('wrong'));
    expect(await outcomeCode(signIn(t, 'max', wrongPassword))).toBe('UNAUTHORIZED');

    // At ten: the owner manages max, partly through an API token; max changes password and signs out.
    clock = Date.parse(TEN);
    const asOwner = t.client(owner.token);
    await asOwner.users.setRoles.mutate({ username: 'max', roles: ['template-admin'] });
    automation = await asOwner.tokens.create.mutate({ name: 'automation' });
    remember(automation.token);
    await t.client(automation.token).users.suspend.mutate({ username: 'max' });
    await asOwner.users.activate.mutate({ username: 'max' });
    ci = await asOwner.tokens.create.mutate({ name: 'ci' });
    remember(ci.token);
    await asOwner.tokens.revoke.mutate({ id: ci.id });
    const duplicate = { username: 'max', email: 'max2@example.com', password: remember(newPassword('dup')) };
    expect(await outcomeCode(asOwner.users.create.mutate(duplicate))).toBe('CONFLICT');
    const changed = { currentPassword: member.password, newPassword: remember(newPassword('max-new')) };
    await t.client(member.token).auth.changePassword.mutate(changed);
    await t.client(member.token).auth.logout.mutate();

    // Templates, workspaces, chats and WireGuard devices: every mutation is recorded whether it succeeds or not.
    for (const p of procedureCatalog.filter(
      (p) => p.type === 'mutation' && /^(templates|workspaces|chats|wireguard)\./.test(p.path),
    )) {
      await callProcedure(t.url, p.path, p.type, { token: owner.token, input: sampleInput(p.path) });
    }
    const key = await asOwner.provisionerKeys.create.mutate({ name: 'edge', tags: { pool: 'edge' } });
    remember(key.key);
    await asOwner.provisionerKeys.revoke.mutate({ name: 'edge' });

    // The AI catalog and policy: every mutation once, each succeeding; keys are secrets too.
    await asOwner.ai.providers.create.mutate({
      name: 'openai',
      kind: 'openai',
      apiKey: remember(sampleApiKey()),
    });
    await asOwner.ai.providers.update.mutate({ name: 'openai', byok: 'allowed' });
    const spare = await asOwner.ai.providers.addKey.mutate({
      provider: 'openai',
      apiKey: remember(sampleApiKey()),
    });
    await asOwner.ai.providers.removeKey.mutate({ provider: 'openai', id: spare.id });
    await asOwner.ai.models.upsert.mutate({
      provider: 'openai',
      name: 'gpt-4.1',
      inputPrice: 2,
      outputPrice: 8,
    });
    await asOwner.ai.models.delete.mutate({ provider: 'openai', name: 'gpt-4.1' });
    await asOwner.ai.byok.set.mutate({ provider: 'openai', apiKey: remember(sampleApiKey()) });
    await asOwner.ai.byok.delete.mutate({ provider: 'openai' });
    await asOwner.ai.policy.setRoleModels.mutate({ role: 'template-admin', patterns: ['openai/*'] });
    await asOwner.ai.policy.setLimits.mutate({ user: '*', limits: { dailyUsd: 5, rpm: 60 } });
    await asOwner.ai.providers.delete.mutate({ name: 'openai' });
  });
  afterAll(() => t?.close());

  it('every mutation the API serves leaves an entry', async () => {
    const recorded = new Set((await fullTrail(owner.token)).map((e) => e.action));
    // The provisioner queue's calls are machine plumbing (a lease renewal every few seconds), not
    // people's actions: the build they serve is audited where a person asked for it.
    const mutations = procedureCatalog
      .filter((p) => p.type === 'mutation' && !p.path.startsWith('provisionerd.'))
      .map((p) => p.path);
    expect(mutations.filter((action) => !recorded.has(action))).toEqual([]);
  });

  it('each entry says who did what to which target, from which address, with which key, and what changed', async () => {
    const trail = await fullTrail(owner.token);
    const find = (action: string, status: AuditEntry['status'] = 'ok') => {
      const entry = trail.find((e) => e.action === action && e.status === status);
      if (!entry) throw new Error(`no ${status} entry for ${action}`);
      return entry;
    };
    const byOwner = { actorId: owner.id, actorUsername: 'owner', sourceIp: '127.0.0.1', status: 'ok' };
    const onMax = { targetType: 'user', targetId: member.id, targetName: 'max' };

    expect(find('users.setRoles')).toMatchObject({
      ...byOwner,
      ...onMax,
      apiKeyId: owner.sessionKey,
      time: TEN,
      diff: { before: { roles: ['member'] }, after: { roles: ['template-admin', 'member'] } },
    });
    expect(find('users.suspend')).toMatchObject({
      ...byOwner,
      ...onMax,
      apiKeyId: automation.id,
      diff: { before: { status: 'active' }, after: { status: 'suspended' } },
    });
    expect(find('tokens.revoke')).toMatchObject({
      ...byOwner,
      targetType: 'api_key',
      targetId: ci.id,
      targetName: 'ci',
      apiKeyId: owner.sessionKey,
    });
    expect(find('auth.changePassword')).toMatchObject({
      actorUsername: 'max',
      apiKeyId: member.sessionKey,
      ...onMax,
    });
    expect(find('users.create', 'error')).toMatchObject({
      ...byOwner,
      status: 'error',
      errorCode: 'CONFLICT',
    });
    expect(find('auth.login', 'error')).toMatchObject({
      sourceIp: '127.0.0.1',
      errorCode: 'UNAUTHORIZED',
      time: NINE,
    });
  });

  it('no entry holds a password or token value, whether the owner or an auditor reads it', async () => {
    for (const reader of [owner.token, auditor.token]) {
      const text = JSON.stringify(await fullTrail(reader));
      expect(secrets.filter((secret) => text.includes(secret))).toEqual([]);
    }
    const refusedCreate = (await fullTrail(owner.token)).find(
      (e) => e.action === 'users.create' && e.status === 'error',
    );
    expect(refusedCreate?.diff).toMatchObject({ input: { username: 'max', password: '[redacted]' } });
  });

  it('filters by actor, action, time and outcome', async () => {
    const list = (filter: Parameters<ReturnType<TestDaemon['client']>['audit']['list']['query']>[0]) =>
      t.client(auditor.token).audit.list.query(filter);

    // A sign-in is recorded as its person's own action.
    const byMax = await list({ actor: 'max' });
    expect(byMax.map((e) => e.action).sort()).toEqual(['auth.changePassword', 'auth.login', 'auth.logout']);

    const userActions = await list({ action: 'users' });
    expect(new Set(userActions.map((e) => e.action))).toEqual(
      new Set(['users.create', 'users.setRoles', 'users.suspend', 'users.activate']),
    );
    const creations = await list({ action: 'users.create' });
    expect(creations.length).toBeGreaterThan(0);
    expect(creations.every((e) => e.action === 'users.create')).toBe(true);

    const atTen = await list({ since: TEN });
    expect(atTen.length).toBeGreaterThan(0);
    expect(atTen.every((e) => e.time === TEN)).toBe(true);
    const beforeTen = await list({ until: TEN });
    expect(beforeTen.map((e) => e.action)).toContain('setup.createFirstUser');
    expect(beforeTen.every((e) => e.time === NINE)).toBe(true);
    expect(atTen.length + beforeTen.length).toBe((await list({})).length);

    const failures = await list({ status: 'error' });
    // The workspace and chat calls named a workspace, model or chat that does not exist.
    const workspaceMisses = procedureCatalog
      .filter((p) => p.type === 'mutation' && /^(workspaces|chats)\./.test(p.path))
      .map((p) => `${p.path} NOT_FOUND`);
    // wireguard.openTunnel named a workspace that does not exist; the device calls succeeded.
    expect(failures.map((e) => `${e.action} ${e.errorCode}`).sort()).toEqual(
      [
        'auth.login UNAUTHORIZED',
        'users.create CONFLICT',
        'wireguard.openTunnel NOT_FOUND',
        ...workspaceMisses,
      ].sort(),
    );
  });

  it('a member cannot read the trail', async () => {
    const someone = await addPerson(t, owner.token, 'nosy');
    remember(someone.password);
    expect(await outcomeCode(t.client(someone.token).audit.list.query({}))).toBe('FORBIDDEN');
  });

  it('a live audit stream shows each new entry as it is written, without secrets', async () => {
    const stream = await SseStream.open(`${t.url}/api/trpc/audit.live`, {
      authorization: `Bearer ${auditor.token}`,
    });
    try {
      expect(await stream.next(2_000)).toMatchObject({ event: 'connected' });
      const made = await t.client(owner.token).tokens.create.mutate({ name: 'live-demo' });
      remember(made.token);
      const event = await stream.next(2_000);
      if (typeof event === 'string') throw new Error(`the stream gave ${event} instead of an entry`);
      expect(JSON.parse(event.data)).toMatchObject({ action: 'tokens.create', targetName: 'live-demo' });
      expect(event.data).not.toContain(made.token);
    } finally {
      stream.close();
    }
  });
});
