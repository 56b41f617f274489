import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTRPCClient, httpLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import { killWorkspaceProcesses } from '@warren/core/test-support/workspaceProcesses';
import { EventSource } from 'eventsource';
import pg from 'pg';
import type { AppRouter } from '../src/api/appRouter';
import { resolveServerConfig } from '../src/config/ServerConfig';
import { type Daemon, type DaemonOptions, startDaemon } from '../src/server';

export const ARTIFACTS_DIR = path.resolve(import.meta.dirname, '..', 'test-results');
export const dialects = ['sqlite', 'postgres'] as const;
export type TestDialect = (typeof dialects)[number];

/** The PostgreSQL server the tests use; each daemon gets a throwaway database on it. */
export const POSTGRES_ADMIN_URL =
  process.env.WARREN_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Every password and token a test creates, so the log scan can prove none was logged. */
export function rememberSecret(value: string): string {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  fs.appendFileSync(path.join(ARTIFACTS_DIR, 'secrets.txt'), `${value}\n`);
  return value;
}

export async function createThrowawayDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `warren_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    // Commits need not wait for the WAL to reach the disk: a throwaway database outlives no crash
    // of PostgreSQL, and the Docker tests' image copies (vfs) can stall fsync for minutes.
    await admin.query(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      try {
        // The daemon's pool may still be saying goodbye: a forced drop would kill those sessions
        // mid-goodbye and surface as an error in the closing client. Wait for them first.
        for (let attempt = 0; ; attempt++) {
          try {
            await client.query(`DROP DATABASE IF EXISTS ${name}${attempt >= 30 ? ' WITH (FORCE)' : ''}`);
            break;
          } catch (error) {
            if ((error as { code?: string }).code !== '55006' || attempt >= 30) throw error;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      } finally {
        await client.end();
      }
    },
  };
}

export interface TestDaemon {
  daemon: Daemon;
  url: string;
  dataDir: string;
  logFile: string;
  /** A typed API client; with a token it is signed in. */
  client(token?: string): ReturnType<typeof createTRPCClient<AppRouter>>;
  /** Creates the owner and returns a signed-in client and its token. */
  setupOwner(): Promise<{ token: string; username: string; password: string }>;
  close(): Promise<void>;
}

/** A typed client: queries and mutations over HTTP, subscriptions over SSE, with the bearer token on both. */
export function apiClient(url: string, token?: string) {
  const headers = (): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url: `${url}/api/trpc`,
          EventSource,
          eventSourceOptions: () => ({
            fetch: (input: string | URL | Request, init?: RequestInit) =>
              fetch(input, {
                ...init,
                headers: { ...(init?.headers as Record<string, string>), ...headers() },
              }),
          }),
        }),
        false: httpLink({ url: `${url}/api/trpc`, headers }),
      }),
    ],
  });
}

/** A real daemon on a free loopback port, on a fresh SQLite file or a throwaway PostgreSQL database. */
export async function startTestDaemon(
  dialect: TestDialect = 'sqlite',
  options: DaemonOptions & { flags?: Record<string, string> } = {},
): Promise<TestDaemon> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-test-'));
  const database = dialect === 'postgres' ? await createThrowawayDatabase() : undefined;
  fs.mkdirSync(path.join(ARTIFACTS_DIR, 'logs'), { recursive: true });
  const logFile = path.join(ARTIFACTS_DIR, 'logs', `daemon-${path.basename(dataDir)}.log`);
  const logStream = fs.createWriteStream(logFile);
  const config = resolveServerConfig(
    {
      listen: '127.0.0.1:0',
      'data-dir': dataDir,
      'postgres-url': database?.url,
      'log-level': 'debug',
      'log-format': 'json',
      ...options.flags,
    },
    {},
  );
  const { flags: _flags, ...daemonOptions } = options;
  const daemon = await startDaemon(config, { logDestination: logStream, ...daemonOptions });
  const url = daemon.url;
  return {
    daemon,
    url,
    dataDir,
    logFile,
    client: (token) => apiClient(url, token),
    async setupOwner() {
      const username = 'owner';
      const password = rememberSecret(`owner-pw-${randomBytes(8).toString('hex')}`);
      await apiClient(url).setup.createFirstUser.mutate({ username, email: 'owner@example.com', password });
      const { token } = await apiClient(url).auth.login.mutate({
        login: username,
        password,
        sessionIn: 'body',
      });
      return { token: rememberSecret(token ?? ''), username, password };
    },
    async close() {
      // Before the data goes: no password, token or provider key a test made may sit in any column.
      const leaks = await secretsInDatabase(daemon);
      await daemon.close();
      await new Promise<void>((resolve) => logStream.end(resolve));
      await database?.drop();
      killWorkspaceProcesses(dataDir);
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (leaks.length > 0) throw new Error(`Secrets stored in the clear: ${leaks.join('; ')}`);
    },
  };
}

/** Every remembered secret found in any text of any table of the daemon's database, as "table.column". */
export async function secretsInDatabase(daemon: Daemon): Promise<string[]> {
  const file = path.join(ARTIFACTS_DIR, 'secrets.txt');
  const secrets = fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line.length >= 8)
    : [];
  if (secrets.length === 0) return [];
  const tables = await daemon.db.kysely.introspection.getTables();
  const leaks: string[] = [];
  for (const table of tables) {
    if (table.name.startsWith('kysely_')) continue;
    const rows = (await daemon.db.kysely
      .selectFrom(table.name as 'users')
      .selectAll()
      .execute()) as Record<string, unknown>[];
    for (const row of rows) {
      for (const [column, value] of Object.entries(row)) {
        if (typeof value !== 'string') continue;
        if (secrets.some((secret) => value.includes(secret))) leaks.push(`${table.name}.${column}`);
      }
    }
  }
  return [...new Set(leaks)];
}
