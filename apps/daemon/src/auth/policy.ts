import { type Role, WarrenError } from '@warren/core';

/** Who is asking: the signed-in user and the API key (session or token) the request carried. */
export interface Actor {
  userId: string;
  username: string;
  roles: readonly Role[];
  apiKeyId: string;
}

export type Rule =
  | { kind: 'public' }
  | { kind: 'authenticated' }
  | { kind: 'roles'; roles: readonly Role[] }
  /** External provisioners, with a provisioner key instead of a user. */
  | { kind: 'provisioner' };

const anyone: Rule = { kind: 'public' };
const signedIn: Rule = { kind: 'authenticated' };
const roles = (...allowed: Role[]): Rule => ({ kind: 'roles', roles: allowed });
const provisioner: Rule = { kind: 'provisioner' };

/**
 * The one place that says who may call what. Every tRPC procedure must have a rule here: the
 * API refuses a procedure without one, and the role-matrix test fails on it.
 */
export const procedurePolicy: Readonly<Record<string, Rule>> = {
  'setup.status': anyone,
  'setup.createFirstUser': anyone,
  'auth.login': anyone,
  'auth.logout': signedIn,
  'auth.whoami': signedIn,
  'auth.changePassword': signedIn,
  'users.list': roles('owner', 'user-admin', 'auditor'),
  'users.create': roles('owner', 'user-admin'),
  'users.suspend': roles('owner', 'user-admin'),
  'users.activate': roles('owner', 'user-admin'),
  'users.setRoles': roles('owner', 'user-admin'),
  'tokens.create': signedIn,
  'tokens.list': signedIn,
  'tokens.revoke': signedIn,
  'audit.list': roles('owner', 'auditor'),
  'audit.live': roles('owner', 'auditor'),
  'templates.list': signedIn,
  'templates.versions': signedIn,
  'templates.get': signedIn,
  'templates.pull': signedIn,
  'templates.push': roles('owner', 'template-admin'),
  'templates.promote': roles('owner', 'template-admin'),
  // Workspace procedures check the workspace's owner in the service (authorizeWorkspace).
  'workspaces.list': signedIn,
  'workspaces.get': signedIn,
  'workspaces.builds': signedIn,
  'workspaces.create': signedIn,
  'workspaces.start': signedIn,
  'workspaces.stop': signedIn,
  'workspaces.restart': signedIn,
  'workspaces.cancel': signedIn,
  'workspaces.update': signedIn,
  'workspaces.delete': signedIn,
  'workspaces.setSchedule': signedIn,
  'workspaces.logs': signedIn,
  'workspaces.watch': signedIn,
  'workspaces.agentLogs': signedIn,
  'workspaces.agentInfo': signedIn,
  'provisionerKeys.list': roles('owner'),
  'provisionerKeys.create': roles('owner'),
  'provisionerKeys.revoke': roles('owner'),
  // AI gateway: owners run the catalog and the policy; everyone keeps their own keys; usage
  // procedures narrow a member to their own calls in the service (canSeeAllAiUsage).
  'ai.providers.list': roles('owner', 'auditor'),
  'ai.providers.create': roles('owner'),
  'ai.providers.update': roles('owner'),
  'ai.providers.delete': roles('owner'),
  'ai.providers.addKey': roles('owner'),
  'ai.providers.removeKey': roles('owner'),
  'ai.models.list': roles('owner', 'auditor'),
  'ai.models.upsert': roles('owner'),
  'ai.models.delete': roles('owner'),
  'ai.models.available': signedIn,
  'ai.byok.list': signedIn,
  'ai.byok.set': signedIn,
  'ai.byok.delete': signedIn,
  'ai.policy.get': roles('owner', 'auditor'),
  'ai.policy.setRoleModels': roles('owner'),
  'ai.policy.setLimits': roles('owner'),
  'ai.usage.list': signedIn,
  'ai.usage.summary': signedIn,
  // Chat procedures check the chat's owner in the service (authorizeChat).
  'chats.create': signedIn,
  'chats.list': signedIn,
  'chats.get': signedIn,
  'chats.delete': signedIn,
  'chats.send': signedIn,
  'chats.edit': signedIn,
  'chats.interrupt': signedIn,
  'chats.summarize': signedIn,
  'chats.watch': signedIn,
  // WireGuard: a device is the caller's own; openTunnel checks the workspace (authorizeWorkspace).
  'wireguard.status': signedIn,
  'wireguard.registerDevice': signedIn,
  'wireguard.removeDevice': signedIn,
  'wireguard.map': signedIn,
  'wireguard.openTunnel': signedIn,
  'wireguard.ack': signedIn,
  'provisionerd.acquire': provisioner,
  'provisionerd.renew': provisioner,
  'provisionerd.appendLogs': provisioner,
  'provisionerd.complete': provisioner,
};

export function hasRole(actor: Actor, ...wanted: Role[]): boolean {
  return actor.roles.some((r) => wanted.includes(r));
}

/** Procedure-level check, run before the input is even parsed. */
export function authorizeProcedure(
  path: string,
  actor: Actor | undefined,
  provisionerKey?: { keyId: string } | WarrenError,
): void {
  const rule = procedurePolicy[path];
  if (!rule) throw new WarrenError('FORBIDDEN', `No access rule is defined for "${path}", so it is refused.`);
  if (rule.kind === 'public') return;
  if (rule.kind === 'provisioner') {
    if (provisionerKey instanceof WarrenError) throw provisionerKey;
    if (provisionerKey) return;
    if (actor)
      throw new WarrenError(
        'FORBIDDEN',
        `"${path}" is for external provisioners, not people; it needs a provisioner key.`,
      );
    throw new WarrenError('UNAUTHORIZED', 'This call is for external provisioners; send a provisioner key.');
  }
  if (!actor)
    throw new WarrenError('UNAUTHORIZED', 'You are not signed in. Run "warren login" or sign in again.');
  if (rule.kind === 'roles' && !hasRole(actor, ...rule.roles)) {
    throw new WarrenError(
      'FORBIDDEN',
      `Your roles do not allow "${path}". It needs one of: ${rule.roles.join(', ')}.`,
    );
  }
}

interface TargetUser {
  id: string;
  username: string;
  roles: readonly Role[];
}

/** Suspend, activate, change roles: owners manage anyone but themselves; user admins manage non-owners. */
export function authorizeManageUser(actor: Actor, target: TargetUser, action: string): void {
  if (target.id === actor.userId) {
    throw new WarrenError('FORBIDDEN', `You cannot ${action} your own account.`);
  }
  if (hasRole(actor, 'owner')) return;
  if (hasRole(actor, 'user-admin') && !target.roles.includes('owner')) return;
  throw new WarrenError('FORBIDDEN', `Only an owner can ${action} the owner "${target.username}".`);
}

/** Only owners grant or take away the owner role. */
export function authorizeRoleChange(actor: Actor, before: readonly Role[], after: readonly Role[]): void {
  const ownerChanged = before.includes('owner') !== after.includes('owner');
  if (ownerChanged && !hasRole(actor, 'owner')) {
    throw new WarrenError('FORBIDDEN', 'Only an owner can grant or remove the owner role.');
  }
}

/** A user's tokens: their own; owners and user admins see and revoke anyone's. */
export function authorizeTokenAccess(actor: Actor, tokenOwnerId: string): void {
  if (tokenOwnerId === actor.userId || hasRole(actor, 'owner', 'user-admin')) return;
  throw new WarrenError('FORBIDDEN', 'You can only see and revoke your own tokens.');
}

/** A workspace: its owner reads and changes it; owners change any; auditors read any. */
export function authorizeWorkspace(actor: Actor, ownerId: string, access: 'read' | 'write'): void {
  if (ownerId === actor.userId || hasRole(actor, 'owner')) return;
  if (access === 'read' && hasRole(actor, 'auditor')) return;
  throw new WarrenError('NOT_FOUND', 'No such workspace, or it is not yours.');
}

/** A chat: its owner reads and writes it; owners may too; auditors read any. */
export function authorizeChat(actor: Actor, ownerId: string, access: 'read' | 'write'): void {
  if (ownerId === actor.userId || hasRole(actor, 'owner')) return;
  if (access === 'read' && hasRole(actor, 'auditor')) return;
  throw new WarrenError('NOT_FOUND', 'No such chat, or it is not yours.');
}

/** Who may see every owner's workspaces at once. */
export function canSeeAllWorkspaces(actor: Actor): boolean {
  return hasRole(actor, 'owner', 'auditor');
}

/** Who may read every person's AI gateway calls; everyone else reads their own. */
export function canSeeAllAiUsage(actor: Actor): boolean {
  return hasRole(actor, 'owner', 'auditor');
}
