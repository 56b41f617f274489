import type { Db } from '../db/database';
import type { Logger } from '../log/logger';
import { type InterceptionRow, insertInterceptions, sumSpend } from './gatewayQueries';
import { InterceptionWriter } from './InterceptionWriter';

const FLUSH_DELAY_MS = 20;
const MAX_BATCH = 100;
const RETRY_DELAYS_MS = [50, 250, 1000];

/**
 * Writes one gateway_interceptions row per call, after the call has finished and off its path:
 * rows queue up and go in as small batches a few milliseconds later, written by a thread of
 * their own (see InterceptionWriter) where there is one. A batch that fails is retried row by
 * row on the main connection; a row that still cannot be written is logged whole (it holds no
 * key), so nothing is lost silently.
 */
export class InterceptionRecorder {
  #queue: InterceptionRow[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #thread: InterceptionWriter | undefined;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly onWritten: (row: InterceptionRow) => void = () => {},
    /** On PostgreSQL, where the writer thread connects (without it, rows go in on the main pool). */
    private readonly postgresUrl?: string,
  ) {}

  /** Starts the writer thread where there is one to start; until then rows go in on the main connection. */
  async start(): Promise<void> {
    try {
      this.#thread ??= await InterceptionWriter.open(this.db, this.postgresUrl);
    } catch (error) {
      this.log.warn({ err: error }, 'AI gateway records calls on the main database connection');
    }
  }

  /** Where the rows are written: by the writer thread, or on the main connection. */
  get writer(): 'thread' | 'main connection' {
    return this.#thread?.healthy ? 'thread' : 'main connection';
  }

  /**
   * A user's spend since `dayStart` and `monthStart`, in pico-dollars, from the rows written so
   * far: on the writer thread when there is one, else on the main connection.
   */
  spend(userId: string, dayStart: number, monthStart: number): Promise<{ day: number; month: number }> {
    const onMain = () => sumSpend(this.db.kysely, userId, dayStart, monthStart);
    const thread = this.#liveThread();
    // A thread that stopped answers nothing more; the main connection still can.
    return thread ? thread.spend(userId, dayStart, monthStart).catch(onMain) : onMain();
  }

  record(row: InterceptionRow): void {
    this.#queue.push(row);
    if (this.#queue.length >= MAX_BATCH) this.#flushSoon(0);
    else this.#flushSoon(FLUSH_DELAY_MS);
  }

  /** Writes everything queued; resolves when it is in the database (or logged as lost). */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#queue;
    this.#queue = [];
    // One batch at a time, in order: SQLite has one writer anyway.
    this.#writing = this.#writing.then(() => this.#write(batch));
    await this.#writing;
  }

  /** Writes everything queued, then stops the writer thread. */
  async close(): Promise<void> {
    await this.flush();
    const thread = this.#thread;
    this.#thread = undefined;
    await thread?.close();
  }

  #flushSoon(delayMs: number): void {
    if (this.#timer && delayMs > 0) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.flush().catch(() => {});
    }, delayMs);
  }

  async #write(rows: InterceptionRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += MAX_BATCH) {
      const batch = rows.slice(i, i + MAX_BATCH);
      try {
        const thread = this.#liveThread();
        if (thread) await thread.write(batch);
        else await insertInterceptions(this.db.kysely, batch);
        for (const row of batch) this.onWritten(row);
      } catch {
        for (const row of batch) await this.#writeOne(row);
      }
    }
  }

  #liveThread(): InterceptionWriter | undefined {
    if (this.#thread && !this.#thread.healthy) {
      this.log.warn('AI gateway records calls on the main database connection: its writer thread stopped');
      this.#thread = undefined;
    }
    return this.#thread;
  }

  async #writeOne(row: InterceptionRow): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await insertInterceptions(this.db.kysely, [row]);
        this.onWritten(row);
        return;
      } catch (error) {
        const delay = RETRY_DELAYS_MS[attempt];
        if (delay === undefined) {
          this.log.error({ err: error, interception: row }, 'AI gateway could not record a call');
          this.onWritten(row);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
