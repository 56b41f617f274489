import type { Secret } from '@warren/core';
import type { Db } from '../db/database';
import type { Logger } from '../log/logger';
import type { SecretBox } from '../secrets/SecretBox';
import { DirectorySnapshot } from './DirectorySnapshot';
import { loadDirectoryRows } from './gatewayQueries';

/** How often the directory re-reads the tables anyway: changes made by another replica, or missed. */
export const DIRECTORY_REFRESH_MS = 5000;

/**
 * The gateway's in-memory copy of providers, models, keys (decrypted), role model lists and
 * limits, so a request never waits on the database for them. The admin side calls
 * `invalidate()` after each change; a timer reloads every few seconds as well.
 */
export class GatewayDirectory {
  #snapshot: DirectorySnapshot | undefined;
  #loading: Promise<void> | undefined;
  /** A load that started because something changed: requests wait for it. */
  #pending: Promise<void> | undefined;
  /** A change arrived while a load was running: load once more after it. */
  #again: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly secrets: SecretBox,
    private readonly log: Logger,
    private readonly refreshMs = DIRECTORY_REFRESH_MS,
  ) {}

  /** Loads once and keeps reloading in the background until `stop()`. */
  async start(): Promise<void> {
    await this.invalidate();
    this.#timer ??= setInterval(() => {
      this.#reload().catch(() => {});
    }, this.refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Something changed: re-read everything. Until that read is done, requests wait for it
   * rather than see the old view, so a change is in force from the moment this is called
   * (awaiting the promise is optional).
   */
  invalidate(): Promise<void> {
    const load = this.#reload();
    this.#pending = load;
    const clear = () => {
      if (this.#pending === load) this.#pending = undefined;
    };
    load.then(clear, clear);
    return load;
  }

  /** The current view: right away, unless a change is being read in (or nothing was yet). */
  snapshot(): DirectorySnapshot | Promise<DirectorySnapshot> {
    if (this.#snapshot && !this.#pending) return this.#snapshot;
    return (this.#pending ?? this.invalidate()).then(() => this.#snapshot as DirectorySnapshot);
  }

  /** One load at a time; a reload asked for during one runs once more after it. */
  #reload(): Promise<void> {
    if (!this.#loading) {
      this.#loading = this.#load().finally(() => {
        this.#loading = undefined;
      });
      return this.#loading;
    }
    const rerun = () => {
      this.#again = undefined;
      return this.#reload();
    };
    this.#again ??= this.#loading.then(rerun, rerun);
    return this.#again;
  }

  async #load(): Promise<void> {
    try {
      const rows = await loadDirectoryRows(this.db.kysely);
      this.#snapshot = new DirectorySnapshot(rows, (stored, what) => this.#decrypt(stored, what));
    } catch (error) {
      // Keep serving the last good view; the next reload tries again.
      this.log.error({ err: error }, 'AI gateway could not reload its providers and models');
      if (!this.#snapshot) throw error;
    }
  }

  #decrypt(stored: string, what: string): Secret | undefined {
    try {
      return this.secrets.decrypt(stored);
    } catch {
      this.log.warn({ key: what }, 'AI gateway skips a key it cannot decrypt (was the secrets key changed?)');
      return undefined;
    }
  }
}
