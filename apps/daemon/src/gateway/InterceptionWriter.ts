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

/** Per dialect: opens the thread's connection; insert(rows), spend({ user, day, month, since }), close(). */
const STORES = `{
  sqlite({ driver, file }, columns) {
    const Database = require(driver);
    const db = new Database(file, { fileMustExist: true });
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    const insert = db.prepare(
      'INSERT INTO gateway_interceptions (' + columns.join(', ') + ')' +
        ' VALUES (' + columns.map(() => '?').join(', ') + ')',
    );
    const insertAll = db.transaction((rows) => {
      for (const row of rows) insert.run(row);
    });
    const spend = db.prepare(
      'SELECT COALESCE(SUM(CASE WHEN time >= @day THEN cost_pico_usd ELSE 0 END), 0) AS day,' +
        ' COALESCE(SUM(CASE WHEN time >= @month THEN cost_pico_usd ELSE 0 END), 0) AS month' +
        ' FROM gateway_interceptions WHERE user_id = @user AND time >= @since',
    );
    return {
      insert: (rows) => void insertAll(rows),
      spend: (args) => spend.get(args),
      close: () => db.close(),
    };
  },
  postgres({ driver, url }, columns) {
    const pg = require(driver);
    // Sums are numeric: they fit in a double, as the main connection reads them.
    const types = {
      getTypeParser: (oid, format) => (oid === 20 || oid === 1700 ? Number : pg.types.getTypeParser(oid, format)),
    };
    const client = new pg.Client({ connectionString: url, types });
    // A connection that breaks ends the thread; the recorder then writes on the main pool.
    client.on('error', (error) => { throw error; });
    const connected = client.connect();
    // One statement for every batch size, prepared once on this connection: the rows travel as
    // one array per column and unnest() zips them back into rows. A batch as a multi-row
    // VALUES list (2,200 parameters for 100 rows) was parsed and planned by PostgreSQL every
    // time, on the same two cores the calls were answered on, and its tail latency showed it.
    // Each array's type is the column's own, read from the catalog.
    const statement = connected.then(async () => {
      const { rows } = await client.query(
        "SELECT column_name, udt_name FROM information_schema.columns" +
          " WHERE table_schema = current_schema() AND table_name = 'gateway_interceptions'",
      );
      const typeOf = new Map(rows.map((row) => [row.column_name, row.udt_name]));
      const arrays = columns.map((column, c) => {
        const type = typeOf.get(column);
        if (!type) throw new Error('gateway_interceptions has no column ' + column);
        return '$' + (c + 1) + '::' + type + '[]';
      });
      return {
        name: 'warren_insert_gateway_interceptions',
        text:
          'INSERT INTO gateway_interceptions (' + columns.join(', ') + ')' +
          ' SELECT * FROM unnest(' + arrays.join(', ') + ')',
      };
    });
    const spend =
      'SELECT COALESCE(SUM(CASE WHEN time >= $2 THEN cost_pico_usd ELSE 0 END), 0) AS day,' +
      ' COALESCE(SUM(CASE WHEN time >= $3 THEN cost_pico_usd ELSE 0 END), 0) AS month' +
      ' FROM gateway_interceptions WHERE user_id = $1 AND time >= $4';
    return {
      insert: async (rows) => {
        const { name, text } = await statement;
        const values = columns.map((_, c) => rows.map((row) => row[c]));
        await client.query({ name, text, values });
      },
      spend: async ({ user, day, month, since }) => {
        await connected;
        return (await client.query(spend, [user, day, month, since])).rows[0];
      },
      close: () => client.end(),
    };
  },
}`;

/**
 * The writer thread, as source: plain CommonJS run with `eval`, so it works the same from the
 * bundled daemon and from TypeScript under test (a worker cannot load a .ts file or a chunk).
 * It owns a connection of its own (on SQLite, to the same file; WAL lets it write while the
 * main connection reads) and answers each message in the order it came: `rows` is one batch
 * in one transaction, `spend` a user's sums, `close` the end.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
// A lower scheduling priority for this thread alone (Linux nices threads one by one): its
// batches can wait, the event loop and the processes answering calls cannot. On two cores, a
// batch that took a core from them showed up in the calls' tail latency. Not the lowest: on a
// machine busy with other work, the thread must still keep up with the calls.
try {
  const thread = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  require('node:os').setPriority(thread, 10);
} catch {}
const columns = workerData.columns;
const store = (${STORES})[workerData.dialect](workerData, columns);
let queue = Promise.resolve();
parentPort.on('message', (message) => {
  queue = queue.then(async () => {
    if (message.close) {
      try {
        await store.close();
      } catch {}
      parentPort.close();
      return;
    }
    try {
      const spend = message.spend ? await store.spend(message.spend) : await store.insert(message.rows);
      parentPort.postMessage({ id: message.id, spend });
    } catch (error) {
      parentPort.postMessage({ id: message.id, error: String((error && error.message) || error) });
    }
  });
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
 * Inserts interception rows from a worker thread (and sums them for budget checks there), so
 * the event loop only hands the values over. On SQLite, better-sqlite3 is synchronous: a
 * 100-row insert (and any WAL checkpoint it triggers) held every stream in flight for 1 to
 * 15 ms. On PostgreSQL, building and encoding a 100-row insert took the loop about a
 * millisecond per batch, which calls in flight then waited for.
 */
export class InterceptionWriter {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #failure: Error | undefined;
  readonly #exited: Promise<void>;

  private constructor(
    connection: { dialect: 'sqlite'; file: string } | { dialect: 'postgres'; url: string },
  ) {
    const driver = createRequire(import.meta.url).resolve(
      connection.dialect === 'sqlite' ? 'better-sqlite3' : 'pg',
    );
    this.#worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { ...connection, driver, columns: COLUMNS },
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

  /**
   * A writer for `db`: a SQLite file (an in-memory database has no file to share), or the
   * PostgreSQL database at `postgresUrl`.
   */
  static async open(db: Db, postgresUrl?: string): Promise<InterceptionWriter | undefined> {
    if (db.dialect === 'postgres')
      return postgresUrl ? new InterceptionWriter({ dialect: 'postgres', url: postgresUrl }) : undefined;
    const { rows } = await sql<{ name: string; file: string }>`PRAGMA database_list`.execute(db.kysely);
    const file = rows.find((row) => row.name === 'main')?.file;
    return file ? new InterceptionWriter({ dialect: 'sqlite', file }) : undefined;
  }

  /** Resolves once the rows are committed; rejects (nothing written) when the batch failed. */
  async write(rows: readonly InterceptionRow[]): Promise<void> {
    await this.#ask({ rows: rows.map(toValues) });
  }

  /**
   * A user's spend since `dayStart` and since `monthStart` (pico-dollars), read on the thread:
   * on SQLite, the sum over a month of the user's rows could hold the event loop for as long as
   * a batch insert did. Asked after the batches sent so far, so it counts them.
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
