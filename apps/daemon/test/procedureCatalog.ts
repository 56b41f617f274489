import { randomBytes } from 'node:crypto';
import { appRouter } from '../src/api/appRouter';
import { rememberSecret } from './harness';

export type ProcedureType = 'query' | 'mutation' | 'subscription';

export interface ProcedureInfo {
  /** The dotted path clients call, e.g. `users.create`. */
  path: string;
  type: ProcedureType;
  /** False for procedures declared without an input schema. */
  takesInput: boolean;
}

/** Every procedure the API serves, read from the router itself, so a new one cannot be left out. */
export const procedureCatalog: ProcedureInfo[] = Object.entries(
  // The router's type nests procedures by namespace; at runtime `_def.procedures` is flat, keyed by dotted path.
  appRouter._def.procedures as unknown as Record<
    string,
    { _def: { type: ProcedureType; inputs: unknown[] } }
  >,
).map(([path, p]) => ({ path, type: p._def.type, takesInput: p._def.inputs.length > 0 }));

export function newPassword(label: string): string {
  return rememberSecret(`${label}-pw-${randomBytes(9).toString('base64url')}`);
}

/**
 * An input each procedure's schema accepts, for tests that start from a valid call and break one
 * thing. Procedures without an input schema have none.
 */
export function sampleInput(path: string): Record<string, unknown> | undefined {
  const sample = samples[path];
  if (!sample) throw new Error(`procedureCatalog.ts has no sample input for "${path}"; add one.`);
  return sample();
}

const none = () => undefined;
/** A WireGuard public key (any 32 bytes in base64 will do for the schema). */
export const sampleWireguardKey = () => randomBytes(32).toString('base64');
export const SAMPLE_SSH_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const SAMPLE_CHAT = '00000000-0000-4000-8000-000000000000';
const samples: Record<string, () => Record<string, unknown> | undefined> = {
  'setup.status': none,
  'setup.createFirstUser': () => ({
    username: 'sample',
    email: 'sample@example.com',
    password: newPassword('sample'),
  }),
  'auth.login': () => ({ login: 'sample', password: newPassword('sample'), sessionIn: 'body' }),
  'auth.logout': none,
  'auth.whoami': none,
  'auth.changePassword': () => ({
    currentPassword: newPassword('current'),
    newPassword: newPassword('next'),
  }),
  'users.list': () => ({ search: 'sample' }),
  'users.create': () => ({
    username: 'sample',
    email: 'sample@example.com',
    password: newPassword('sample'),
  }),
  'users.suspend': () => ({ username: 'sample' }),
  'users.activate': () => ({ username: 'sample' }),
  'users.setRoles': () => ({ username: 'sample', roles: ['auditor'] }),
  'tokens.create': () => ({ name: 'sample' }),
  'tokens.list': () => ({ includeRevoked: true }),
  'tokens.revoke': () => ({ id: 'sample' }),
  'audit.list': () => ({ limit: 10 }),
  'audit.live': none,
  'templates.list': none,
  'templates.versions': () => ({ name: 'local' }),
  'templates.get': () => ({ name: 'local', version: 1 }),
  'templates.pull': () => ({ name: 'local' }),
  'templates.push': () => ({ name: 'sample', manifest: sampleManifest('sample'), message: 'first' }),
  'templates.promote': () => ({ name: 'local', version: 1 }),
  'workspaces.list': () => ({ search: 'sample' }),
  'workspaces.get': () => ({ name: 'sample' }),
  'workspaces.builds': () => ({ name: 'sample' }),
  'workspaces.create': () => ({ name: 'sample', template: 'no-such-template' }),
  'workspaces.start': () => ({ name: 'sample' }),
  'workspaces.stop': () => ({ name: 'sample' }),
  'workspaces.restart': () => ({ name: 'sample' }),
  'workspaces.cancel': () => ({ name: 'sample' }),
  'workspaces.update': () => ({ name: 'sample' }),
  'workspaces.delete': () => ({ name: 'sample', orphan: false }),
  'workspaces.setSchedule': () => ({ name: 'sample', autostopMinutes: 60 }),
  'workspaces.logs': () => ({ name: 'sample' }),
  'workspaces.watch': () => ({ all: false }),
  'workspaces.agentLogs': () => ({ name: 'sample', afterSeq: 0 }),
  'workspaces.agentInfo': () => ({ name: 'sample' }),
  'provisionerKeys.list': none,
  'provisionerKeys.create': () => ({ name: 'sample' }),
  'provisionerKeys.revoke': () => ({ name: 'sample' }),
  'ai.providers.list': none,
  'ai.providers.create': () => ({ name: 'sample', kind: 'openai', apiKey: sampleApiKey() }),
  'ai.providers.update': () => ({ name: 'sample', byok: 'forbidden' }),
  'ai.providers.delete': () => ({ name: 'sample' }),
  'ai.providers.addKey': () => ({ provider: 'sample', apiKey: sampleApiKey(), priority: 1 }),
  'ai.providers.removeKey': () => ({ provider: 'sample', id: 'sample' }),
  'ai.models.list': () => ({ provider: 'sample' }),
  'ai.models.upsert': () => ({ provider: 'sample', name: 'gpt-4.1', inputPrice: 2, outputPrice: 8 }),
  'ai.models.delete': () => ({ provider: 'sample', name: 'gpt-4.1' }),
  'ai.models.available': none,
  'ai.byok.list': none,
  'ai.byok.set': () => ({ provider: 'sample', apiKey: sampleApiKey() }),
  'ai.byok.delete': () => ({ provider: 'sample' }),
  'ai.policy.get': none,
  'ai.policy.setRoleModels': () => ({ role: 'member', patterns: ['sample/*'] }),
  'ai.policy.setLimits': () => ({ user: '*', limits: { dailyUsd: 5, rpm: 60 } }),
  'ai.usage.list': () => ({ user: 'sample', limit: 10 }),
  'ai.usage.summary': () => ({ groupBy: 'user', since: '2030-01-01T00:00:00Z' }),
  'chats.create': () => ({ model: 'anthropic/claude-sonnet-4-5', title: 'sample', message: 'hello' }),
  'chats.list': () => ({ all: true }),
  'chats.get': () => ({ chatId: SAMPLE_CHAT }),
  'chats.delete': () => ({ chatId: SAMPLE_CHAT }),
  'chats.send': () => ({ chatId: SAMPLE_CHAT, text: 'hello' }),
  'chats.edit': () => ({ chatId: SAMPLE_CHAT, messageId: SAMPLE_CHAT, text: 'hello' }),
  'chats.interrupt': () => ({ chatId: SAMPLE_CHAT }),
  'chats.summarize': () => ({ chatId: SAMPLE_CHAT }),
  'chats.watch': () => ({ chatId: SAMPLE_CHAT }),
  'wireguard.status': none,
  'wireguard.registerDevice': () => ({ deviceId: 'sample', publicKey: sampleWireguardKey() }),
  'wireguard.removeDevice': () => ({ deviceId: 'sample' }),
  'wireguard.map': () => ({ deviceId: 'sample' }),
  'wireguard.openTunnel': () => ({ deviceId: 'sample', name: 'sample', sshPublicKey: SAMPLE_SSH_KEY }),
  'wireguard.ack': () => ({ deviceId: 'sample', version: 0 }),
  'provisionerd.acquire': () => ({ instanceId: 'instance-1' }),
  'provisionerd.renew': () => ({ jobId: 'sample', instanceId: 'instance-1' }),
  'provisionerd.appendLogs': () => ({ jobId: 'sample', instanceId: 'instance-1', lines: [] }),
  'provisionerd.complete': () => ({
    jobId: 'sample',
    instanceId: 'instance-1',
    outcome: { status: 'failed', error: 'x' },
  }),
};

/** A provider API key in the shape providers issue, remembered for the log scan. */
export function sampleApiKey(label = 'sample'): string {
  return rememberSecret(`sk-${label}-${randomBytes(18).toString('base64url')}`);
}

/** A small valid template manifest on the local provisioner. */
export function sampleManifest(name: string): string {
  return `name: ${name}\nprovisioner:\n  type: local\n  local:\n    sandbox: false\n`;
}
