import { DEFAULT_TOKEN_LIFETIME_SECONDS, type Secret, WarrenError } from '@warren/core';
import type { Db } from '../db/database';
import { isUniqueViolation } from '../db/errors';
import * as apiKeys from '../tokens/apiKeyQueries';
import { findRoles, findUser } from '../users/userQueries';
import { mintApiKeyToken, parseApiKeyToken, secretMatches } from './apiKeyToken';
import type { LiveSessions } from './LiveSessions';
import type { LoginThrottle } from './LoginThrottle';
import { verifyPassword } from './password';
import type { Actor } from './policy';

export const SESSION_LIFETIME_MS = 7 * 24 * 3600_000;
/** last_used_at is a hint, not an audit record: write it at most once a minute per key. */
const TOUCH_INTERVAL_MS = 60_000;

export type AuthResult = { actor: Actor } | { error: WarrenError };

export class AuthService {
  constructor(
    private readonly db: Db,
    private readonly throttle: LoginThrottle,
    private readonly live: LiveSessions,
    private readonly now: () => number = Date.now,
  ) {}

  async login(login: string, password: Secret, ip: string) {
    const user = await findUser(this.db.kysely, { login });
    // Count failures per account, however the login was written (username, email, spacing).
    const account = user?.id ?? login.trim().toLowerCase();
    this.throttle.check(account, ip);
    const ok = await verifyPassword(password, user?.password_hash);
    if (!user || !ok) {
      this.throttle.recordFailure(account, ip);
      throw new WarrenError('UNAUTHORIZED', 'The username/email or password is incorrect.');
    }
    if (user.status === 'suspended') {
      throw new WarrenError('FORBIDDEN', 'This account is suspended. Ask an administrator to reactivate it.');
    }
    this.throttle.recordSuccess(account);
    const session = await this.#issue(user.id, 'session', `session-${this.now()}`, SESSION_LIFETIME_MS, ip);
    return { user, ...session };
  }

  async #issue(
    userId: string,
    kind: 'session' | 'token',
    name: string,
    lifetimeMs: number,
    ip: string | null,
  ) {
    const { id, token, secretHash } = mintApiKeyToken();
    const createdAt = this.now();
    const expiresAt = createdAt + lifetimeMs;
    await apiKeys.insertApiKey(this.db.kysely, {
      id,
      user_id: userId,
      kind,
      name,
      secret_hash: secretHash,
      created_at: createdAt,
      expires_at: expiresAt,
      last_used_at: null,
      revoked_at: null,
      created_ip: ip,
    });
    return { apiKeyId: id, token, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** Resolves a presented key to an actor; every reason for refusal is its own sentence. */
  async authenticate(raw: string): Promise<AuthResult> {
    const parsed = parseApiKeyToken(raw);
    // Built only for a refusal: an error captures a stack trace, and every request comes here.
    const invalid = () =>
      new WarrenError('UNAUTHORIZED', 'The API token or session is not valid. Sign in again.');
    if (!parsed) return { error: invalid() };
    const key = await apiKeys.findApiKeyForAuth(this.db.kysely, parsed.id);
    if (!key || !secretMatches(parsed, key.secret_hash)) return { error: invalid() };
    const now = this.now();
    if (key.revoked_at !== null) {
      return {
        error: new WarrenError('UNAUTHORIZED', 'This API token or session was revoked. Sign in again.'),
      };
    }
    if (key.expires_at <= now) {
      return {
        error: new WarrenError('UNAUTHORIZED', 'This API token or session has expired. Sign in again.'),
      };
    }
    if (key.status !== 'active') {
      return { error: new WarrenError('UNAUTHORIZED', 'This account is suspended.') };
    }
    if (key.last_used_at === null || now - key.last_used_at > TOUCH_INTERVAL_MS) {
      await apiKeys.touchApiKey(this.db.kysely, key.id, key.user_id, now);
    }
    const roles = await findRoles(this.db.kysely, key.user_id);
    return { actor: { userId: key.user_id, username: key.username, roles, apiKeyId: key.id } };
  }

  async logout(actor: Actor): Promise<void> {
    await apiKeys.revokeApiKey(this.db.kysely, actor.apiKeyId, this.now());
    this.live.endKey(actor.apiKeyId);
  }

  async createToken(actor: Actor, name: string, lifetimeSeconds = DEFAULT_TOKEN_LIFETIME_SECONDS) {
    try {
      return await this.#issue(actor.userId, 'token', name, lifetimeSeconds * 1000, null);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new WarrenError(
          'CONFLICT',
          `You already have a token named "${name}". Revoke it or pick another name.`,
        );
      }
      throw error;
    }
  }

  async findToken(id: string) {
    const token = await apiKeys.findToken(this.db.kysely, id);
    if (!token) throw new WarrenError('NOT_FOUND', `No API token has the id "${id}".`);
    return token;
  }

  async revokeToken(id: string): Promise<void> {
    if (!(await apiKeys.revokeApiKey(this.db.kysely, id, this.now()))) {
      throw new WarrenError('CONFLICT', `The API token "${id}" is already revoked.`);
    }
    this.live.endKey(id);
  }

  listTokens(filter: { userId?: string; includeRevoked: boolean }) {
    return apiKeys.listTokens(this.db.kysely, filter);
  }
}
