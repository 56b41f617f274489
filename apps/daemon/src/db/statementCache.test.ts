import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { withStatementCache } from './statementCache';

interface Tables {
  items: { id: number; name: string };
}

describe('withStatementCache', () => {
  let db: Kysely<Tables> | undefined;
  afterEach(async () => {
    await db?.destroy();
  });

  function open() {
    const sqlite = new SqliteDatabase(':memory:');
    const prepared: string[] = [];
    const prepare = sqlite.prepare.bind(sqlite);
    sqlite.prepare = ((source: string) => {
      prepared.push(source);
      return prepare(source);
    }) as typeof sqlite.prepare;
    db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    return { db, prepared };
  }

  it('prepares a query once and gives the right rows on every run', async () => {
    const { db, prepared } = open();
    await sql`create table items (id integer primary key, name text not null)`.execute(db);
    await db.insertInto('items').values({ id: 1, name: 'a' }).execute();
    await db.insertInto('items').values({ id: 2, name: 'b' }).execute();
    const byId = (id: number) =>
      db.selectFrom('items').select('name').where('id', '=', id).executeTakeFirst();
    expect(await byId(1)).toEqual({ name: 'a' });
    expect(await byId(2)).toEqual({ name: 'b' });
    expect(await byId(3)).toBeUndefined();
    expect(prepared.filter((s) => s.startsWith('select')).length).toBe(1);
  });

  it('sees a schema change made after a statement was cached', async () => {
    const { db } = open();
    await sql`create table items (id integer primary key, name text not null)`.execute(db);
    await db.insertInto('items').values({ id: 1, name: 'a' }).execute();
    const all = () => sql<Record<string, unknown>>`select * from items`.execute(db);
    expect((await all()).rows).toEqual([{ id: 1, name: 'a' }]);
    await sql`alter table items add column size integer not null default 7`.execute(db);
    expect((await all()).rows).toEqual([{ id: 1, name: 'a', size: 7 }]);
  });

  it('gives a fresh statement while the cached one is still being iterated', () => {
    const sqlite = new SqliteDatabase(':memory:');
    const cache = withStatementCache(sqlite);
    sqlite.exec('create table items (id integer primary key); insert into items values (1), (2), (3);');
    const source = 'select id from items order by id';
    const first = cache.prepare(source) as unknown as SqliteDatabase.Statement;
    const seen: unknown[] = [];
    for (const row of first.iterate() as Iterable<{ id: number }>) {
      // Reusing the busy statement would throw "This statement is busy executing a query".
      if (row.id === 2) seen.push((cache.prepare(source) as unknown as SqliteDatabase.Statement).all());
    }
    expect(seen).toEqual([[{ id: 1 }, { id: 2 }, { id: 3 }]]);
    expect(cache.prepare(source)).toBe(first);
    cache.close();
  });

  it('keeps a bounded number of statements', async () => {
    const { db, prepared } = open();
    await sql`create table items (id integer primary key, name text not null)`.execute(db);
    const inList = (n: number) =>
      db
        .selectFrom('items')
        .select('id')
        .where(
          'id',
          'in',
          Array.from({ length: n }, (_, i) => i),
        )
        .execute();
    for (let n = 1; n <= 600; n++) await inList(n);
    const before = prepared.length;
    await inList(600); // the most recent one is still cached
    expect(prepared.length).toBe(before);
    await inList(1); // the oldest was evicted
    expect(prepared.length).toBe(before + 1);
  });
});
