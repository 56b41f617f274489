import { roles as allRoles, type Role, type User } from '@warren/core';
import type { Kysely, Selectable } from 'kysely';
import type { Database, UsersTable } from '../db/schema';

type Db = Kysely<Database>;
export type UserRow = Selectable<UsersTable> & { roles: Role[] };

/** Everyone is a member; other roles are stored grants. Returned in the canonical order. */
export function effectiveRoles(stored: readonly string[]): Role[] {
  return allRoles.filter((r) => r === 'member' || stored.includes(r));
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    status: row.status,
    roles: row.roles,
    createdAt: new Date(row.created_at).toISOString(),
    lastSeenAt: row.last_seen_at === null ? null : new Date(row.last_seen_at).toISOString(),
  };
}

export async function insertUser(db: Db, row: Selectable<UsersTable>, roles: readonly Role[]): Promise<void> {
  await db.insertInto('users').values(row).execute();
  const stored = roles.filter((r) => r !== 'member');
  if (stored.length > 0) {
    await db
      .insertInto('user_roles')
      .values(stored.map((role) => ({ user_id: row.id, role })))
      .execute();
  }
}

/** A user's effective roles, for authenticating a request. */
export async function findRoles(db: Db, userId: string): Promise<Role[]> {
  const grants = await db.selectFrom('user_roles').select('role').where('user_id', '=', userId).execute();
  return effectiveRoles(grants.map((g) => g.role));
}

async function withRoles(db: Db, rows: Selectable<UsersTable>[]): Promise<UserRow[]> {
  if (rows.length === 0) return [];
  const grants = await db
    .selectFrom('user_roles')
    .select(['user_id', 'role'])
    .where(
      'user_id',
      'in',
      rows.map((r) => r.id),
    )
    .execute();
  const byUser = new Map<string, string[]>();
  for (const g of grants) byUser.set(g.user_id, [...(byUser.get(g.user_id) ?? []), g.role]);
  return rows.map((row) => ({ ...row, roles: effectiveRoles(byUser.get(row.id) ?? []) }));
}

export async function findUser(db: Db, by: { id: string } | { username: string } | { login: string }) {
  let query = db.selectFrom('users').selectAll();
  if ('id' in by) query = query.where('id', '=', by.id);
  else if ('username' in by) query = query.where('username', '=', by.username);
  else {
    const login = by.login.trim().toLowerCase();
    query = query.where((eb) =>
      eb.or([eb('username', '=', login), eb(eb.fn('lower', ['email']), '=', login)]),
    );
  }
  const row = await query.executeTakeFirst();
  return row ? (await withRoles(db, [row]))[0] : undefined;
}

export async function listUsers(
  db: Db,
  filter: { search?: string; status?: string; role?: Role; limit: number; offset: number },
): Promise<UserRow[]> {
  let query = db
    .selectFrom('users')
    .selectAll()
    .orderBy('username')
    .limit(filter.limit)
    .offset(filter.offset);
  if (filter.search) {
    const like = `%${filter.search.toLowerCase().replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.or([eb('username', 'like', eb.val(like)), eb(eb.fn('lower', ['email']), 'like', eb.val(like))]),
    );
  }
  if (filter.status) query = query.where('status', '=', filter.status as UsersTable['status']);
  if (filter.role && filter.role !== 'member') {
    const role = filter.role;
    query = query.where('id', 'in', (eb) =>
      eb.selectFrom('user_roles').select('user_id').where('role', '=', role),
    );
  }
  return withRoles(db, await query.execute());
}

export async function countUsers(db: Db): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function setUserStatus(
  db: Db,
  id: string,
  status: UsersTable['status'],
  now: number,
): Promise<void> {
  await db.updateTable('users').set({ status, updated_at: now }).where('id', '=', id).execute();
}

export async function replaceRoles(db: Db, id: string, roles: readonly Role[]): Promise<void> {
  await db.deleteFrom('user_roles').where('user_id', '=', id).execute();
  const stored = roles.filter((r) => r !== 'member');
  if (stored.length > 0) {
    await db
      .insertInto('user_roles')
      .values(stored.map((role) => ({ user_id: id, role })))
      .execute();
  }
}
