import { randomUUID } from 'node:crypto';
import { roles as allRoles, type Role, type Secret, type User, WarrenError } from '@warren/core';
import type { LiveSessions } from '../auth/LiveSessions';
import { hashPassword, verifyPassword } from '../auth/password';
import { type Actor, authorizeManageUser, authorizeRoleChange } from '../auth/policy';
import type { Db } from '../db/database';
import { isUniqueViolation, uniqueViolationTarget } from '../db/errors';
import * as q from './userQueries';

interface NewUser {
  username: string;
  email: string;
  password: Secret;
  roles?: Role[];
}

export class UsersService {
  constructor(
    private readonly db: Db,
    private readonly live: LiveSessions,
    private readonly now: () => number = Date.now,
  ) {}

  async hasUsers(): Promise<boolean> {
    return (await q.countUsers(this.db.kysely)) > 0;
  }

  /**
   * The first user becomes owner. The deployment flag's primary key makes this a one-time
   * race: of two concurrent setups, exactly one inserts the flag and the other gets CONFLICT.
   */
  async createFirstUser(input: NewUser): Promise<User> {
    const passwordHash = await hashPassword(input.password);
    const row = this.#row(input, passwordHash);
    try {
      await this.db.kysely.transaction().execute(async (trx) => {
        if ((await q.countUsers(trx)) > 0) throw setupDone();
        await trx.insertInto('deployment_flags').values({ key: 'first_user', value: row.id }).execute();
        await q.insertUser(trx, row, ['owner']);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw setupDone();
      throw error;
    }
    return this.get({ id: row.id });
  }

  async create(actor: Actor, input: NewUser): Promise<User> {
    const roles = normalizeRoles(input.roles ?? []);
    authorizeRoleChange(actor, ['member'], roles);
    const row = this.#row(input, await hashPassword(input.password));
    try {
      await this.db.kysely.transaction().execute((trx) => q.insertUser(trx, row, roles));
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const field = /email/.test(uniqueViolationTarget(error))
        ? `email "${input.email}"`
        : `username "${input.username}"`;
      throw new WarrenError('CONFLICT', `A user with the ${field} already exists.`);
    }
    return this.get({ id: row.id });
  }

  #row(input: NewUser, passwordHash: string) {
    const now = this.now();
    return {
      id: randomUUID(),
      username: input.username,
      email: input.email.trim().toLowerCase(),
      password_hash: passwordHash,
      status: 'active' as const,
      created_at: now,
      updated_at: now,
      last_seen_at: null,
    };
  }

  async get(by: { id: string } | { username: string }): Promise<User> {
    const row = await q.findUser(this.db.kysely, by);
    if (!row)
      throw new WarrenError('NOT_FOUND', `No user is named "${'username' in by ? by.username : by.id}".`);
    return q.toUser(row);
  }

  async list(filter: {
    search?: string;
    status?: 'active' | 'suspended';
    role?: Role;
    limit?: number;
    offset?: number;
  }) {
    const rows = await q.listUsers(this.db.kysely, {
      ...filter,
      limit: filter.limit ?? 100,
      offset: filter.offset ?? 0,
    });
    return rows.map(q.toUser);
  }

  async setStatus(actor: Actor, username: string, status: 'active' | 'suspended') {
    const before = await this.get({ username });
    authorizeManageUser(actor, before, status === 'suspended' ? 'suspend' : 'reactivate');
    await q.setUserStatus(this.db.kysely, before.id, status, this.now());
    // Their requests already fail at authentication; long-lived streams end now too.
    if (status === 'suspended') this.live.endUser(before.id);
    return { before, after: await this.get({ id: before.id }) };
  }

  async setRoles(actor: Actor, username: string, wanted: Role[]) {
    const before = await this.get({ username });
    const roles = normalizeRoles(wanted);
    authorizeManageUser(actor, before, 'change the roles of');
    authorizeRoleChange(actor, before.roles, roles);
    await this.db.kysely.transaction().execute(async (trx) => {
      await q.replaceRoles(trx, before.id, roles);
    });
    return { before, after: await this.get({ id: before.id }) };
  }

  async changePassword(actor: Actor, current: Secret, next: Secret): Promise<void> {
    const row = await q.findUser(this.db.kysely, { id: actor.userId });
    if (!row || !(await verifyPassword(current, row.password_hash))) {
      throw new WarrenError('INVALID_INPUT', 'The current password is incorrect.');
    }
    await this.db.kysely
      .updateTable('users')
      .set({ password_hash: await hashPassword(next), updated_at: this.now() })
      .where('id', '=', actor.userId)
      .execute();
  }
}

function setupDone(): WarrenError {
  return new WarrenError('CONFLICT', 'Setup is already done: the first user exists. Sign in instead.');
}

function normalizeRoles(wanted: readonly Role[]): Role[] {
  return allRoles.filter((r) => r === 'member' || wanted.includes(r));
}
