import { EventEmitter, on } from 'node:events';

/**
 * In-process pub/sub: everything that streams (build logs, workspace state, agent state) is
 * published here after it is persisted. Topics are strings such as `job:<id>` or
 * `workspace:<id>`; subscribers re-read persisted state, so a missed event loses nothing.
 */
export class EventBus {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  publish(topic: string, event: unknown): void {
    this.#emitter.emit(topic, event);
  }

  /** Events on `topic` until `signal` aborts; ends quietly on abort. */
  async *subscribe<T>(topic: string, signal: AbortSignal): AsyncGenerator<T> {
    try {
      for await (const [event] of on(this.#emitter, topic, { signal })) yield event as T;
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
  }

  /** A plain callback subscription; returns the function that removes it. */
  listen<T>(topic: string, listener: (event: T) => void): () => void {
    this.#emitter.on(topic, listener);
    return () => this.#emitter.off(topic, listener);
  }
}
