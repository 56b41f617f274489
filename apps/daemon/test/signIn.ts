import type { Role } from '@warren/core';
import { rememberSecret, type TestDaemon } from './harness';
import { newPassword } from './procedureCatalog';

export interface Person {
  username: string;
  password: string;
  /** A session from signing in with the password. */
  token: string;
}

/** Signs in with a password and returns the session token, as the CLI does. */
export async function signIn(t: TestDaemon, login: string, password: string): Promise<string> {
  const { token } = await t.client().auth.login.mutate({ login, password, sessionIn: 'body' });
  return rememberSecret(token ?? '');
}

/** Creates a user (a member plus `roles`) as the given admin, then signs them in. */
export async function addPerson(
  t: TestDaemon,
  adminToken: string,
  username: string,
  roles: Role[] = [],
): Promise<Person> {
  const password = newPassword(username);
  await t
    .client(adminToken)
    .users.create.mutate({ username, email: `${username}@example.com`, password, roles });
  return { username, password, token: await signIn(t, username, password) };
}
