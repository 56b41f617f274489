import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type Db, migrateToLatest, openDb } from '../../src/db/database';
import { type InterceptionRow, sumSpend } from '../../src/gateway/gatewayQueries';
import { InterceptionRecorder } from '../../src/gateway/InterceptionRecorder';
import { InterceptionWriter } from '../../src/gateway/InterceptionWriter';
import { createLogger } from '../../src/log/logger';
import { createThrowawayDatabase } from '../harness';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sqliteFile(): Promise<{ db: Db; file: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-recorder-'));
  const file = path.join(dir, 'warren.db');
  const db = openDb({ dialect: 'sqlite', file });
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => db.close());
  await migrateToLatest(db);
  return { db, file };
}

/** A migrated throwaway PostgreSQL database, dropped after the test. */
async function postgresDb(): Promise<{ db: Db; url: string }> {
  const database = await createThrowawayDatabase();
  cleanups.push(() => database.drop());
  const db = openDb({ dialect: 'postgres', url: database.url });
  cleanups.push(() => db.close());
  await migrateToLatest(db);
  return { db, url: database.url };
}

function loggerLines() {
  const out = new PassThrough();
  const lines: string[] = [];
  out.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  return { log: createLogger({ level: 'warn', format: 'json', destination: out }), lines };
}

function row(overrides: Partial<InterceptionRow> = {}): InterceptionRow {
  return {
    id: randomUUID(),
    time: Date.now(),
    user_id: 'user-1',
    api_key_id: 'key-1',
    chat_id: null,
    provider_id: 'provider-1',
    provider_kind: 'openai',
    endpoint: 'chat.completions',
    model: 'gpt-4.1-mini',
    streaming: 1,
    credential: 'central',
    status: 200,
    error: null,
    input_tokens: 21,
    output_tokens: 9,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    cost_pico_usd: 22_800_000,
    ttfb_ms: 1,
    total_ms: 2,
    overhead_ms: 0.05,
    tool_calls: '[]',
    ...overrides,
  };
}

const countRows = async (db: Db) =>
  Number(
    (
      await db.kysely
        .selectFrom('gateway_interceptions')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

/** Every row was stored and reported written, once; returns the stored row `rows[index]`. */
async function expectAllWritten(db: Db, rows: InterceptionRow[], written: string[], index: number) {
  expect(await countRows(db)).toBe(rows.length);
  expect(written.sort()).toEqual(rows.map((r) => r.id).sort());
  return db.kysely
    .selectFrom('gateway_interceptions')
    .selectAll()
    .where('id', '=', rows[index]?.id as string)
    .executeTakeFirstOrThrow();
}

describe('InterceptionRecorder on a SQLite file', () => {
  it('has every recorded call in the database once close() returns, each reported written after commit', async () => {
    const { db } = await sqliteFile();
    const written: string[] = [];
    const recorder = new InterceptionRecorder(db, loggerLines().log, (r) => written.push(r.id));
    await recorder.start();
    expect(recorder.writer).toBe('thread');
    const rows = Array.from({ length: 250 }, () => row());
    for (const r of rows) recorder.record(r);
    await recorder.close();
    const stored = await expectAllWritten(db, rows, written, 0);
    expect(stored).toMatchObject({
      output_tokens: 9,
      cost_pico_usd: 22_800_000,
      overhead_ms: 0.05,
      streaming: 1,
    });
  });

  it('keeps writing on its thread while the main connection reads (WAL)', async () => {
    const { db } = await sqliteFile();
    const recorder = new InterceptionRecorder(db, loggerLines().log);
    await recorder.start();
    for (let round = 1; round <= 5; round++) {
      for (let i = 0; i < 40; i++) recorder.record(row());
      await recorder.flush();
      expect(await countRows(db)).toBe(round * 40);
    }
    await recorder.close();
  });

  it('retries a batch the thread could not write row by row: good rows kept, the bad one logged whole', async () => {
    const { db } = await sqliteFile();
    const { log, lines } = loggerLines();
    const written: string[] = [];
    const recorder = new InterceptionRecorder(db, log, (r) => written.push(r.id));
    await recorder.start();
    expect(recorder.writer).toBe('thread');
    const first = row();
    recorder.record(first);
    await recorder.flush();
    // The same id again makes its whole batch fail the primary key.
    const duplicate = row({ id: first.id, model: 'the-duplicate' });
    const good = [row(), row()];
    recorder.record(good[0] as InterceptionRow);
    recorder.record(duplicate);
    recorder.record(good[1] as InterceptionRow);
    await recorder.close();
    expect(await countRows(db)).toBe(3);
    expect(written).toEqual(expect.arrayContaining(good.map((r) => r.id)));
    const lost = lines
      .map((line) => JSON.parse(line))
      .find((l) => l.msg === 'AI gateway could not record a call');
    expect(lost?.interception?.model).toBe('the-duplicate');
  });
});

describe('spend read for budget checks', () => {
  it('sums a user’s day and month on the writer thread, as the main connection would', async () => {
    const { db } = await sqliteFile();
    const recorder = new InterceptionRecorder(db, loggerLines().log);
    await recorder.start();
    const dayStart = Date.UTC(2026, 10, 25);
    const monthStart = Date.UTC(2026, 10, 1);
    recorder.record(row({ time: dayStart + 1000, cost_pico_usd: 3_000 }));
    recorder.record(row({ time: dayStart - 1000, cost_pico_usd: 500 }));
    recorder.record(row({ time: monthStart - 1000, cost_pico_usd: 70 }));
    recorder.record(row({ time: dayStart + 5, cost_pico_usd: 11, user_id: 'someone-else' }));
    await recorder.flush();
    expect(recorder.writer).toBe('thread');
    expect(await recorder.spend('user-1', dayStart, monthStart)).toEqual({ day: 3_000, month: 3_500 });
    expect(await sumSpend(db.kysely, 'user-1', dayStart, monthStart)).toEqual({ day: 3_000, month: 3_500 });
    await recorder.close();
  });
});

describe('InterceptionRecorder on PostgreSQL', () => {
  it('writes and sums on a thread with a connection of its own, as the main pool would', async () => {
    const { db, url } = await postgresDb();
    const written: string[] = [];
    const recorder = new InterceptionRecorder(db, loggerLines().log, (r) => written.push(r.id), url);
    await recorder.start();
    expect(recorder.writer).toBe('thread');
    const dayStart = Date.UTC(2026, 10, 25);
    const monthStart = Date.UTC(2026, 10, 1);
    const rows = Array.from({ length: 250 }, (_, i) =>
      row({ time: (i % 2 ? dayStart : monthStart) + i, cost_pico_usd: 1_000 + i }),
    );
    for (const r of rows) recorder.record(r);
    await recorder.flush();
    expect(await recorder.spend('user-1', dayStart, monthStart)).toEqual(
      await sumSpend(db.kysely, 'user-1', dayStart, monthStart),
    );
    await recorder.close();
    const stored = await expectAllWritten(db, rows, written, 1);
    expect(stored).toMatchObject({
      time: dayStart + 1,
      cost_pico_usd: 1_001,
      overhead_ms: 0.05,
      chat_id: null,
    });
  });

  it('stores text exactly as given through its batch insert: quotes, backslashes, braces, NULL lookalikes, newlines', async () => {
    const { db, url } = await postgresDb();
    const awkward = [
      'say "hi", then {leave}',
      'C:\\path\\to\\file and a lone \\',
      'NULL',
      '',
      'line one\nline two\ttabbed ✓ 日本',
      'it\'s {"a":[1,2]}',
    ];
    const rows = awkward.map((text, i) =>
      row({
        error: text,
        tool_calls: JSON.stringify([{ name: 'edit', arguments: text }]),
        chat_id: i % 2 ? `chat-${i}` : null,
        ttfb_ms: i % 3 ? i : null,
        api_key_id: i === 2 ? null : 'key-1',
      }),
    );
    // The thread itself, not the recorder: the recorder would hide a failed batch by writing
    // its rows again on the main connection.
    const writer = await InterceptionWriter.open(db, url);
    if (!writer) throw new Error('no writer thread for PostgreSQL');
    await writer.write(rows.slice(0, 2));
    await writer.write(rows.slice(2));
    await writer.close();
    expect(await countRows(db)).toBe(rows.length);
    const stored = await db.kysely.selectFrom('gateway_interceptions').selectAll().execute();
    for (const r of rows) {
      const got = stored.find((s) => s.id === r.id);
      expect(got).toMatchObject({
        error: r.error,
        tool_calls: r.tool_calls,
        chat_id: r.chat_id,
        ttfb_ms: r.ttfb_ms,
        api_key_id: r.api_key_id,
        overhead_ms: 0.05,
      });
    }
  });
});

describe('InterceptionRecorder without a file to share', () => {
  it('writes on the main connection (an in-memory database)', async () => {
    const db = openDb({ dialect: 'sqlite', file: ':memory:' });
    cleanups.push(() => db.close());
    await migrateToLatest(db);
    const recorder = new InterceptionRecorder(db, loggerLines().log);
    await recorder.start();
    expect(recorder.writer).toBe('main connection');
    for (let i = 0; i < 3; i++) recorder.record(row());
    await recorder.close();
    expect(await countRows(db)).toBe(3);
  });
});
