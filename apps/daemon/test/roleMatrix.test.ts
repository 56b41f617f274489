import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { procedurePolicy } from '../src/auth/policy';
import { callProcedure } from './callProcedure';
import { dialects, rememberSecret, startTestDaemon, type TestDaemon } from './harness';
import {
  newPassword,
  procedureCatalog,
  SAMPLE_SSH_KEY,
  sampleApiKey,
  sampleManifest,
  sampleWireguardKey,
} from './procedureCatalog';
import { addPerson, signIn } from './signIn';

const callers = ['anonymous', 'owner', 'user-admin', 'template-admin', 'auditor', 'member'] as const;
type Caller = (typeof callers)[number];
const Y = 'allowed';
const N = 'refused';
type Verdict = typeof Y | typeof N;

/**
 * Who may call what, written out by hand: the policy must agree with this table, and a procedure
 * that is not in it fails the suite. Each role column is a user holding that role (plus member).
 */
// biome-ignore format: the grid reads as a table
const EXPECTED: Record<string, readonly [Verdict, Verdict, Verdict, Verdict, Verdict, Verdict]> = {
  //                       anonymous owner user-admin template-admin auditor member
  'setup.status':          [Y,       Y,    Y,         Y,             Y,      Y],
  'setup.createFirstUser': [Y,       Y,    Y,         Y,             Y,      Y],
  'auth.login':            [Y,       Y,    Y,         Y,             Y,      Y],
  'auth.logout':           [N,       Y,    Y,         Y,             Y,      Y],
  'auth.whoami':           [N,       Y,    Y,         Y,             Y,      Y],
  'auth.changePassword':   [N,       Y,    Y,         Y,             Y,      Y],
  'users.list':            [N,       Y,    Y,         N,             Y,      N],
  'users.create':          [N,       Y,    Y,         N,             N,      N],
  'users.suspend':         [N,       Y,    Y,         N,             N,      N],
  'users.activate':        [N,       Y,    Y,         N,             N,      N],
  'users.setRoles':        [N,       Y,    Y,         N,             N,      N],
  'tokens.create':         [N,       Y,    Y,         Y,             Y,      Y],
  'tokens.list':           [N,       Y,    Y,         Y,             Y,      Y],
  'tokens.revoke':         [N,       Y,    Y,         Y,             Y,      Y],
  'audit.list':            [N,       Y,    N,         N,             Y,      N],
  'audit.live':            [N,       Y,    N,         N,             Y,      N],
  'templates.list':        [N,       Y,    Y,         Y,             Y,      Y],
  'templates.versions':    [N,       Y,    Y,         Y,             Y,      Y],
  'templates.get':         [N,       Y,    Y,         Y,             Y,      Y],
  'templates.pull':        [N,       Y,    Y,         Y,             Y,      Y],
  'templates.push':        [N,       Y,    N,         Y,             N,      N],
  'templates.promote':     [N,       Y,    N,         Y,             N,      N],
  'workspaces.list':       [N,       Y,    Y,         Y,             Y,      Y],
  'workspaces.get':        [N,       Y,    Y,         Y,             Y,      Y],
  'workspaces.builds':     [N,       Y,    Y,         Y,             Y,      Y],
  'workspaces.create':     [N,       Y,    Y,         Y,             Y,      Y],
  'workspaces.start':      [N,       Y,    Y,         Y,             Y,      Y],
  'workspaces.stop':       [N,       Y,    Y,         Y,             Y,      Y],
  'workspaces.restart':    [N,       Y,    Y,         Y,             Y,      Y],
  'workspaces.cancel':     [N,       Y,    Y,         Y,             Y,      Y],
  'workspaces.update':     [N,       Y,    Y,         Y,             Y,      Y],
  'workspaces.delete':     [N,       Y,    Y,         Y,             Y,      Y],
  'workspaces.setSchedule':[N,       Y,    Y,         Y,             Y,      Y],
  'workspaces.logs':       [N,       Y,    Y,         Y,             Y,      Y],
  'workspaces.watch':      [N,       Y,    Y,         Y,             Y,      Y],
  'workspaces.agentLogs':  [N,       Y,    Y,         Y,             Y,      Y],
  'workspaces.agentInfo':  [N,       Y,    Y,         Y,             Y,      Y],
  'provisionerKeys.list':  [N,       Y,    N,         N,             N,      N],
  'provisionerKeys.create':[N,       Y,    N,         N,             N,      N],
  'provisionerKeys.revoke':[N,       Y,    N,         N,             N,      N],
  'ai.providers.list':     [N,       Y,    N,         N,             Y,      N],
  'ai.providers.create':   [N,       Y,    N,         N,             N,      N],
  'ai.providers.update':   [N,       Y,    N,         N,             N,      N],
  'ai.providers.delete':   [N,       Y,    N,         N,             N,      N],
  'ai.providers.addKey':   [N,       Y,    N,         N,             N,      N],
  'ai.providers.removeKey':[N,       Y,    N,         N,             N,      N],
  'ai.models.list':        [N,       Y,    N,         N,             Y,      N],
  'ai.models.upsert':      [N,       Y,    N,         N,             N,      N],
  'ai.models.delete':      [N,       Y,    N,         N,             N,      N],
  'ai.models.available':   [N,       Y,    Y,         Y,             Y,      Y],
  'ai.byok.list':          [N,       Y,    Y,         Y,             Y,      Y],
  'ai.byok.set':           [N,       Y,    Y,         Y,             Y,      Y],
  'ai.byok.delete':        [N,       Y,    Y,         Y,             Y,      Y],
  'ai.policy.get':         [N,       Y,    N,         N,             Y,      N],
  'ai.policy.setRoleModels':[N,      Y,    N,         N,             N,      N],
  'ai.policy.setLimits':   [N,       Y,    N,         N,             N,      N],
  // Everyone reads usage; the service narrows members to their own calls.
  'ai.usage.list':         [N,       Y,    Y,         Y,             Y,      Y],
  'ai.usage.summary':      [N,       Y,    Y,         Y,             Y,      Y],
  // Everyone chats; the service limits each chat to its owner (and owners; auditors read).
  'chats.create':          [N,       Y,    Y,         Y,             Y,      Y],
  'chats.list':            [N,       Y,    Y,         Y,             Y,      Y],
  'chats.get':             [N,       Y,    Y,         Y,             Y,      Y],
  'chats.delete':          [N,       Y,    Y,         Y,             Y,      Y],
  'chats.send':            [N,       Y,    Y,         Y,             Y,      Y],
  'chats.edit':            [N,       Y,    Y,         Y,             Y,      Y],
  'chats.interrupt':       [N,       Y,    Y,         Y,             Y,      Y],
  'chats.summarize':       [N,       Y,    Y,         Y,             Y,      Y],
  'chats.watch':           [N,       Y,    Y,         Y,             Y,      Y],
  // Only external provisioners, with a provisioner key: no user, whatever their roles.
  'wireguard.status':      [N,       Y,    Y,         Y,             Y,      Y],
  'wireguard.registerDevice':[N,     Y,    Y,         Y,             Y,      Y],
  'wireguard.removeDevice':[N,       Y,    Y,         Y,             Y,      Y],
  'wireguard.map':         [N,       Y,    Y,         Y,             Y,      Y],
  'wireguard.openTunnel':  [N,       Y,    Y,         Y,             Y,      Y],
  'wireguard.ack':         [N,       Y,    Y,         Y,             Y,      Y],
  'provisionerd.acquire':  [N,       N,    N,         N,             N,      N],
  'provisionerd.renew':    [N,       N,    N,         N,             N,      N],
  'provisionerd.appendLogs':[N,      N,    N,         N,             N,      N],
  'provisionerd.complete': [N,       N,    N,         N,             N,      N],
};

const NO_CHAT = '00000000-0000-4000-8000-000000000000';

interface Session {
  caller: Caller;
  username: string;
  password: string;
  /** Undefined for the anonymous caller. */
  token: string | undefined;
}

interface Call {
  input?: unknown;
  /** A token other than the caller's own session, for calls that would end that session. */
  token?: string | undefined;
}

describe('the policy covers the whole API', () => {
  const routerPaths = procedureCatalog.map((p) => p.path);

  it('every procedure the router serves has a row in the expected role matrix', () => {
    expect(routerPaths.filter((path) => !(path in EXPECTED))).toEqual([]);
  });

  it('every procedure the router serves has an access rule in the policy', () => {
    expect(routerPaths.filter((path) => !(path in procedurePolicy))).toEqual([]);
  });

  it('neither the matrix nor the policy names a procedure the router no longer serves', () => {
    const stale = [...Object.keys(EXPECTED), ...Object.keys(procedurePolicy)].filter(
      (p) => !routerPaths.includes(p),
    );
    expect(stale).toEqual([]);
  });
});

describe.each(dialects)('who may call what, over HTTP on %s', (dialect) => {
  let t: TestDaemon;
  const sessions = new Map<Caller, Session>();

  /** A call each procedure's schema and state accept, so only the caller's rights decide the outcome. */
  const validCall: Record<string, (s: Session) => Call | Promise<Call>> = {
    'setup.status': () => ({}),
    'setup.createFirstUser': (s) => ({
      input: {
        username: `first-${s.caller}`,
        email: `first-${s.caller}@example.com`,
        password: newPassword('first'),
      },
    }),
    'auth.login': (s) => ({ input: { login: s.username, password: s.password, sessionIn: 'body' } }),
    'auth.logout': async (s) => ({ token: s.token && (await signIn(t, s.username, s.password)) }),
    'auth.whoami': () => ({}),
    'auth.changePassword': (s) => ({ input: { currentPassword: s.password, newPassword: s.password } }),
    'users.list': () => ({ input: {} }),
    'users.create': (s) => ({
      input: {
        username: `made-by-${s.caller}`,
        email: `made-by-${s.caller}@example.com`,
        password: newPassword('made'),
      },
    }),
    'users.suspend': () => ({ input: { username: 'target' } }),
    'users.activate': () => ({ input: { username: 'target' } }),
    'users.setRoles': () => ({ input: { username: 'target', roles: ['template-admin'] } }),
    'tokens.create': (s) => ({ input: { name: `matrix-${s.caller}` } }),
    'tokens.list': () => ({ input: {} }),
    'tokens.revoke': async (s) => {
      if (!s.token) return { input: { id: 'no-such-token' } };
      const own = await t.client(s.token).tokens.create.mutate({ name: `to-revoke-${s.caller}` });
      rememberSecret(own.token);
      return { input: { id: own.id } };
    },
    'audit.list': () => ({ input: { limit: 1 } }),
    'audit.live': () => ({}),
    'templates.list': () => ({}),
    'templates.versions': () => ({ input: { name: 'local' } }),
    'templates.get': () => ({ input: { name: 'local' } }),
    'templates.pull': () => ({ input: { name: 'local' } }),
    'templates.push': (s) => ({
      input: { name: `by-${s.caller}`, manifest: sampleManifest(`by-${s.caller}`) },
    }),
    'templates.promote': () => ({ input: { name: 'local', version: 1 } }),
    // A workspace that does not exist: NOT_FOUND is an allowed outcome, the caller's rights decide.
    'workspaces.list': () => ({ input: {} }),
    'workspaces.get': () => ({ input: { name: 'none' } }),
    'workspaces.builds': () => ({ input: { name: 'none' } }),
    'workspaces.create': () => ({ input: { name: 'none', template: 'no-such-template' } }),
    'workspaces.start': () => ({ input: { name: 'none' } }),
    'workspaces.stop': () => ({ input: { name: 'none' } }),
    'workspaces.restart': () => ({ input: { name: 'none' } }),
    'workspaces.cancel': () => ({ input: { name: 'none' } }),
    'workspaces.update': () => ({ input: { name: 'none' } }),
    'workspaces.delete': () => ({ input: { name: 'none' } }),
    'workspaces.setSchedule': () => ({ input: { name: 'none', autostopMinutes: 30 } }),
    'workspaces.logs': () => ({ input: { name: 'none' } }),
    'workspaces.watch': () => ({ input: {} }),
    'workspaces.agentLogs': () => ({ input: { name: 'none' } }),
    'workspaces.agentInfo': () => ({ input: { name: 'none' } }),
    'provisionerKeys.list': () => ({}),
    'provisionerKeys.create': (s) => ({ input: { name: `key-${s.caller}` } }),
    'provisionerKeys.revoke': () => ({ input: { name: 'no-such-key' } }),
    // AI catalog calls name a provider that does not exist: NOT_FOUND is an allowed outcome.
    'ai.providers.list': () => ({}),
    'ai.providers.create': (s) => ({ input: { name: `matrix-${s.caller}`, kind: 'anthropic' } }),
    'ai.providers.update': () => ({ input: { name: 'no-such-provider', enabled: false } }),
    'ai.providers.delete': () => ({ input: { name: 'no-such-provider' } }),
    'ai.providers.addKey': () => ({
      input: { provider: 'no-such-provider', apiKey: sampleApiKey('matrix') },
    }),
    'ai.providers.removeKey': () => ({ input: { provider: 'no-such-provider', id: 'k' } }),
    'ai.models.list': () => ({ input: {} }),
    'ai.models.upsert': () => ({
      input: { provider: 'no-such-provider', name: 'm', inputPrice: 1, outputPrice: 2 },
    }),
    'ai.models.delete': () => ({ input: { provider: 'no-such-provider', name: 'm' } }),
    'ai.models.available': () => ({}),
    'ai.byok.list': () => ({}),
    'ai.byok.set': () => ({ input: { provider: 'no-such-provider', apiKey: sampleApiKey('matrix') } }),
    'ai.byok.delete': () => ({ input: { provider: 'no-such-provider' } }),
    'ai.policy.get': () => ({}),
    'ai.policy.setRoleModels': () => ({ input: { role: 'template-admin', patterns: [] } }),
    'ai.policy.setLimits': () => ({ input: { user: '*', limits: { rpm: 600 } } }),
    'ai.usage.list': () => ({ input: {} }),
    'ai.usage.summary': () => ({ input: { groupBy: 'day' } }),
    // A model or chat that does not exist: NOT_FOUND is an allowed outcome.
    'chats.create': () => ({ input: { model: 'no-such-model' } }),
    'chats.list': () => ({ input: {} }),
    'chats.get': () => ({ input: { chatId: NO_CHAT } }),
    'chats.delete': () => ({ input: { chatId: NO_CHAT } }),
    'chats.send': () => ({ input: { chatId: NO_CHAT, text: 'hello' } }),
    'chats.edit': () => ({ input: { chatId: NO_CHAT, messageId: NO_CHAT, text: 'hello' } }),
    'chats.interrupt': () => ({ input: { chatId: NO_CHAT } }),
    'chats.summarize': () => ({ input: { chatId: NO_CHAT } }),
    'chats.watch': () => ({ input: { chatId: NO_CHAT } }),
    // A device of the caller's own (a fresh key each time) and a workspace that does not exist.
    'wireguard.status': () => ({}),
    'wireguard.registerDevice': () => ({ input: { deviceId: 'matrix', publicKey: sampleWireguardKey() } }),
    'wireguard.removeDevice': () => ({ input: { deviceId: 'matrix' } }),
    'wireguard.map': () => ({ input: { deviceId: 'matrix' } }),
    'wireguard.openTunnel': () => ({
      input: { deviceId: 'matrix', name: 'none', sshPublicKey: SAMPLE_SSH_KEY },
    }),
    'wireguard.ack': () => ({ input: { deviceId: 'matrix', version: 0 } }),
    'provisionerd.acquire': () => ({ input: { instanceId: 'instance-1' } }),
    'provisionerd.renew': () => ({ input: { jobId: 'j', instanceId: 'instance-1' } }),
    'provisionerd.appendLogs': () => ({ input: { jobId: 'j', instanceId: 'instance-1', lines: [] } }),
    'provisionerd.complete': () => ({
      input: { jobId: 'j', instanceId: 'instance-1', outcome: { status: 'failed', error: 'x' } },
    }),
  };

  beforeAll(async () => {
    t = await startTestDaemon(dialect);
    const owner = await t.setupOwner();
    const admin = t.client(owner.token);
    sessions.set('owner', { caller: 'owner', ...owner });
    for (const role of ['user-admin', 'template-admin', 'auditor', 'member'] as const) {
      const person = await addPerson(t, owner.token, `as-${role}`, role === 'member' ? [] : [role]);
      sessions.set(role, { caller: role, ...person });
    }
    await admin.users.create.mutate({
      username: 'target',
      email: 'target@example.com',
      password: newPassword('target'),
    });
    const member = sessions.get('member');
    sessions.set('anonymous', {
      caller: 'anonymous',
      username: member?.username ?? '',
      password: member?.password ?? '',
      token: undefined,
    });
  });
  afterAll(() => t?.close());

  const cells = procedureCatalog.flatMap((procedure) =>
    callers.map((caller, column) => ({ ...procedure, caller, verdict: EXPECTED[procedure.path]?.[column] })),
  );

  for (const { path, type, caller, verdict } of cells) {
    it(`${caller}: ${path} is ${verdict ?? 'missing from the matrix'}`, async () => {
      if (!verdict) throw new Error(`The role matrix has no row for "${path}".`);
      const session = sessions.get(caller);
      const makeCall = validCall[path];
      if (!session || !makeCall)
        throw new Error(`roleMatrix.test.ts has no valid call for "${path}"; add one.`);
      const call = await makeCall(session);
      const outcome = await callProcedure(t.url, path, type, {
        token: call.token ?? session.token,
        input: call.input,
      });

      if (verdict === N) {
        const refusal =
          caller === 'anonymous' ? { status: 401, code: 'UNAUTHORIZED' } : { status: 403, code: 'FORBIDDEN' };
        expect({ status: outcome.status, code: outcome.code }, outcome.text).toEqual(refusal);
      } else {
        expect([401, 403], outcome.text).not.toContain(outcome.status);
        expect(outcome.status, outcome.text).toBeLessThan(500);
      }
    });
  }
});
