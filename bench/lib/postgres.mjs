// A throwaway PostgreSQL database for a bench row: created on an admin connection, dropped
// (WITH (FORCE)) at cleanup, on success, failure and Ctrl-C alike.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { onCleanup } from './cleanup.mjs';

/** The default admin connection: $WARREN_BENCH_POSTGRES_URL, else the local superuser. */
export const DEFAULT_POSTGRES_URL =
  process.env.WARREN_BENCH_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

/** The URL without its password, for messages. */
export function redactUrl(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * Creates `warren_bench_<random>` through `adminUrl`. Resolves to { name, url, drop } (drop is
 * registered with cleanup too), or to { skipped: reason } when the server cannot be reached or
 * the database cannot be created: a skipped row, not a failed run.
 */
export async function createThrowawayDatabase(adminUrl) {
  const connect = async () => {
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
    client.on('error', () => {}); // a dropped connection surfaces through the query instead
    await client.connect();
    return client;
  };
  let admin;
  try {
    admin = await connect();
  } catch (error) {
    return {
      skipped: `could not connect to ${redactUrl(adminUrl)}: ${error.message || error.code || error}`,
    };
  }
  const name = `warren_bench_${randomBytes(6).toString('hex')}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    await admin.end().catch(() => {});
    return { skipped: `could not create a database on ${redactUrl(adminUrl)}: ${error.message}` };
  }
  await admin.end().catch(() => {});
  const drop = onCleanup(`drop database ${name}`, async () => {
    const client = await connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await client.end().catch(() => {});
    }
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop };
}
