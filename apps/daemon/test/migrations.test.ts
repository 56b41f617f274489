import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { type Db, migrateToLatest, openDb } from '../src/db/database';
import { migrations } from '../src/db/migrations';
import { createThrowawayDatabase, dialects, type TestDialect } from './harness';

const TABLES = ['api_keys', 'audit_log', 'deployment_flags', 'user_roles', 'users'];

async function tableNames(db: Db): Promise<string[]> {
  const query =
    db.dialect === 'sqlite'
      ? sql<{
          name: string;
        }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`
      : sql<{
          name: string;
        }>`select table_name as name from information_schema.tables where table_schema = 'public'`;
  const { rows } = await query.execute(db.kysely);
  return rows.map((r) => r.name).sort();
}

describe.each(dialects)('migrating a %s database', (dialect: TestDialect) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A connection to an empty database; `open` again reaches the same one. */
  async function emptyDatabase(): Promise<{ open(): Db }> {
    if (dialect === 'sqlite') {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-migrate-'));
      cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
      return { open: () => track(openDb({ dialect: 'sqlite', file: path.join(dir, 'warren.db') })) };
    }
    const database = await createThrowawayDatabase();
    cleanups.push(database.drop);
    return { open: () => track(openDb({ dialect: 'postgres', url: database.url })) };
  }
  function track(db: Db): Db {
    cleanups.push(() => db.close());
    return db;
  }

  it('creates every table from an empty database, and a second run changes nothing', async () => {
    const db = (await emptyDatabase()).open();
    expect(await tableNames(db)).toEqual([]);

    expect(await migrateToLatest(db)).toEqual(migrations.map((m) => m.name));
    const afterFirst = await tableNames(db);
    expect(afterFirst).toEqual(expect.arrayContaining(TABLES));

    await db.kysely.insertInto('deployment_flags').values({ key: 'canary', value: 'kept' }).execute();
    expect(await migrateToLatest(db)).toEqual([]);
    expect(await tableNames(db)).toEqual(afterFirst);
    const canary = await db.kysely.selectFrom('deployment_flags').selectAll().execute();
    expect(canary).toEqual([{ key: 'canary', value: 'kept' }]);
  });

  it('a restart on a migrated database applies nothing and keeps the data', async () => {
    const database = await emptyDatabase();
    const first = database.open();
    await migrateToLatest(first);
    await first.kysely
      .insertInto('deployment_flags')
      .values({ key: 'first_user', value: 'someone' })
      .execute();
    await first.close();

    const second = database.open();
    expect(await migrateToLatest(second)).toEqual([]);
    expect(await second.kysely.selectFrom('deployment_flags').select('value').execute()).toEqual([
      { value: 'someone' },
    ]);
  });

  if (dialect === 'postgres') {
    it('two servers migrating the same empty database at once both start, and each migration runs once', async () => {
      const database = await emptyDatabase();
      const [a, b] = await Promise.all([migrateToLatest(database.open()), migrateToLatest(database.open())]);
      expect([...a, ...b]).toEqual(migrations.map((m) => m.name));
      expect(await tableNames(database.open())).toEqual(expect.arrayContaining(TABLES));
    });
  }
});
