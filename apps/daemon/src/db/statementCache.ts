import type SqliteDatabase from 'better-sqlite3';
import type { SqliteDatabase as KyselySqliteDatabase } from 'kysely';

/** Distinct statements kept; queries with `in (...)` lists of varying length make the set open-ended. */
const MAX_STATEMENTS = 512;

/**
 * better-sqlite3 behind Kysely with prepared statements reused. Kysely's SQLite driver prepares
 * every query anew, and preparing (parsing and planning the SQL) cost more than running most of
 * our queries: a fifth of a millisecond on each tunnel open or gateway request. SQLite re-prepares
 * a cached statement by itself after a schema change. A statement still being iterated (a
 * streamed query) is busy and cannot run twice at once, so such a query gets a fresh one.
 */
export function withStatementCache(sqlite: SqliteDatabase.Database): KyselySqliteDatabase {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => {
      cache.clear();
      sqlite.close();
    },
    prepare: (sql: string) => {
      const cached = cache.get(sql);
      if (cached && !cached.busy) {
        // Most recently used last, so the first entry is the one to evict.
        cache.delete(sql);
        cache.set(sql, cached);
        return cached;
      }
      const statement = sqlite.prepare(sql);
      if (cached) return statement;
      cache.set(sql, statement);
      if (cache.size > MAX_STATEMENTS) cache.delete(cache.keys().next().value as string);
      return statement;
    },
  };
}
