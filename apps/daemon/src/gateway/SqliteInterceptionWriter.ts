import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { GatewayInterceptionsTable } from '../db/schema';
import type { InterceptionRow } from './gatewayQueries';

/** Every column, in the order a row's values travel to the writer thread. */
const COLUMNS = [
  'id',
  'time',
  'user_id',
  'api_key_id',
  'chat_id',
  'provider_id',
  'provider_kind',
  'endpoint',
  'model',
  'streaming',
  'credential',
  'status',
  'error',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'cost_pico_usd',
  'ttfb_ms',
  'total_ms',
  'overhead_ms',
  'tool_calls',
] as const satisfies readonly (keyof GatewayInterceptionsTable)[];

// A column added to the table without being added above fails to compile here.
type Missing = Exclude<keyof GatewayInterceptionsTable, (typeof COLUMNS)[number]>;
const everyColumn: [Missing] extends [never] ? true : Missing = true;
void everyColumn;

type Value = string | number | null;

/**
 * The writer thread, as source: plain CommonJS run with `eval`, so it works the same from the
 * bundled daemon and from TypeScript under test (a worker cannot load a .ts file or a chunk).
 * It owns a connection of its own to the same file; WAL lets it write while the main
 * connection reads. One transaction per batch, through one prepared statement.
 */
const WRITER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const columns = workerData.columns;
const insert = db.prepare(
  'INSERT INTO gateway_interceptions (' + columns.join(', ') + ') VALUES (' + columns.map(() => '?').join(', ') + ')',
);
const insertAll = db.transaction((rows) => {
  for (const row of rows) insert.run(row);
});
const spend = db.prepare(
  'SELECT COALESCE(SUM(CASE WHEN time >= @day THEN cost_pico_usd ELSE 0 END), 0) AS day,' +
    ' COALESCE(SUM(CASE WHEN time >= @month THEN cost_pico_usd ELSE 0 END), 0) AS month' +
    ' FROM gateway_interceptions WHERE user_id = @user AND time >= @since',
);
parentPort.on('message', (message) => {
  if (message.close) {
    db.close();
    parentPort.close();
    return;
  }
  try {
    if (message.spend) parentPort.postMessage({ id: message.id, spend: spend.get(message.spend) });
    else {
      insertAll(message.rows);
      parentPort.postMessage({ id: message.id });
    }
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: String((error && error.message) || error) });
  }
});
`;

interface Pending {
  resolve: (answer: Answer) => void;
  reject: (error: Error) => void;
}

interface Answer {
  id: number;
  error?: string;
  spend?: { day: number; month: number };
}

/**
 * Inserts interception rows into a SQLite file from a worker thread (and sums them for budget
 * checks there). better-sqlite3 is synchronous: on the event loop, a 100-row insert (and any
 * WAL checkpoint it triggers) held every stream in flight for 1 to 15 ms. Here the loop only
 * hands the values over.
 */
export class SqliteInterceptionWriter {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #failure: Error | undefined;
  readonly #exited: Promise<void>;

  private constructor(file: string) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WRITER_SOURCE, {
      eval: true,
      workerData: { file, driver, columns: COLUMNS },
      // Its own small heap: it only ever holds one batch.
      resourceLimits: { maxOldGenerationSizeMb: 64 },
    });
    // Only an unanswered batch keeps the process alive; close() is what waits for the rest.
    this.#worker.unref();
    this.#worker.on('message', (answer: Answer) => this.#answered(answer));
    this.#worker.on('error', (error) => this.#fail(error));
    this.#exited = new Promise((resolve) => {
      this.#worker.once('exit', () => {
        this.#fail(new Error('The interception writer thread exited.'));
        resolve();
      });
    });
  }

  /** A writer for `db` when it is a SQLite file (an in-memory database has no file to share). */
  static async open(db: Db): Promise<SqliteInterceptionWriter | undefined> {
    if (db.dialect !== 'sqlite') return undefined;
    const { rows } = await sql<{ name: string; file: string }>`PRAGMA database_list`.execute(db.kysely);
    const file = rows.find((row) => row.name === 'main')?.file;
    return file ? new SqliteInterceptionWriter(file) : undefined;
  }

  /** Resolves once the rows are committed; rejects (nothing written) when the batch failed. */
  async write(rows: readonly InterceptionRow[]): Promise<void> {
    await this.#ask({ rows: rows.map(toValues) });
  }

  /**
   * A user's spend since `dayStart` and since `monthStart` (pico-dollars), read on the thread:
   * the sum runs over a month of the user's rows, which could hold the event loop for as long
   * as a batch insert did. Asked after the batches sent so far, so it counts them.
   */
  async spend(userId: string, dayStart: number, monthStart: number): Promise<{ day: number; month: number }> {
    const since = Math.min(dayStart, monthStart);
    const answer = await this.#ask({ spend: { user: userId, day: dayStart, month: monthStart, since } });
    return { day: Number(answer.spend?.day ?? 0), month: Number(answer.spend?.month ?? 0) };
  }

  #ask(message: { rows: Value[][] } | { spend: Record<string, string | number> }): Promise<Answer> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise<Answer>((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, ...message });
    });
  }

  /** Whether the thread still writes; once it failed, every write rejects. */
  get healthy(): boolean {
    return this.#failure === undefined;
  }

  /** Closes the thread's connection once the batches sent so far are in. */
  async close(): Promise<void> {
    if (!this.#failure) this.#worker.postMessage({ close: true });
    this.#worker.ref();
    await this.#exited;
  }

  #answered(answer: Answer): void {
    const pending = this.#pending.get(answer.id);
    if (!pending) return;
    this.#pending.delete(answer.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if (answer.error === undefined) pending.resolve(answer);
    else pending.reject(new Error(answer.error));
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

function toValues(row: InterceptionRow): Value[] {
  const values: Value[] = new Array(COLUMNS.length);
  for (let i = 0; i < COLUMNS.length; i++) {
    const value = row[COLUMNS[i] as (typeof COLUMNS)[number]];
    values[i] = value === undefined ? null : (value as Value);
  }
  return values;
}
