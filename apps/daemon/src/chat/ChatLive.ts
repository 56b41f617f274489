import {
  applyChatDelta,
  type Chat,
  type ChatDelta,
  type ChatMessage,
  type ChatStreamEvent,
  sortMessages,
} from '@warren/core';

type Listener = (event: ChatStreamEvent) => void;

/**
 * One chat as it is right now, held in memory while someone watches it or a turn runs: the
 * source of the subscription's snapshot and of the deltas after it. Every change goes through
 * `emit`, which numbers it, folds it in with the same reducer clients use, and hands it to
 * listeners in the same synchronous step, so a snapshot taken between two changes is exactly
 * the state before the next delta: no gap, no duplicate.
 */
export class ChatLive {
  seq = 0;
  chat: Chat;
  messages: ChatMessage[];
  /** Who holds this state (subscriptions, the worker, a request); at 0 it is dropped. */
  holders = 0;
  /** The running turn's abort, while one runs. */
  turnAbort: AbortController | undefined;
  /** True from the moment a worker is asked for until it finds the queue empty (set and cleared synchronously). */
  draining = false;
  /** The worker for the queue, while it runs; resolves when the queue is empty or held. */
  worker: Promise<void> | undefined;
  /**
   * How many callers (an edit, a delete, a parent's interrupt, shutdown) hold the queue: while
   * any does, the worker starts no new turn. A count, so one caller's release cannot restart a
   * worker another still holds back (an edit finishing while a delete is under way).
   */
  holds = 0;
  /** Set once the chat is deleted. */
  closed = false;
  readonly #listeners = new Set<Listener>();
  readonly #waiters = new Set<() => void>();
  readonly #closers = new Set<() => void>();
  #lock: Promise<unknown> = Promise.resolve();

  constructor(
    chat: Chat,
    messages: ChatMessage[],
    readonly ids: { ownerId: string; workspaceId: string | null },
  ) {
    this.chat = chat;
    this.messages = sortMessages(messages);
  }

  /** Runs `work` after every earlier exclusive section: database writes land in the order of their deltas. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(work, work);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  emit(delta: ChatDelta): void {
    const next = applyChatDelta(this, delta);
    this.chat = next.chat;
    this.messages = next.messages;
    this.seq += 1;
    const event: ChatStreamEvent = { type: 'delta', seq: this.seq, delta };
    for (const listener of this.#listeners) listener(event);
    this.#wakeWaiters();
  }

  snapshot(): Extract<ChatStreamEvent, { type: 'snapshot' }> {
    return { type: 'snapshot', seq: this.seq, chat: this.chat, messages: structuredClone(this.messages) };
  }

  /** The snapshot, and every delta after it to `listener` until the returned function is called. */
  watch(listener: Listener): { snapshot: ChatStreamEvent; stop: () => void } {
    const snapshot = this.snapshot();
    this.#listeners.add(listener);
    return { snapshot, stop: () => this.#listeners.delete(listener) };
  }

  /** The snapshot, then each delta, until `signal` aborts or the chat is deleted. */
  async *stream(signal: AbortSignal): AsyncGenerator<ChatStreamEvent> {
    const queue: ChatStreamEvent[] = [];
    let wake: (() => void) | undefined;
    const { snapshot, stop } = this.watch((event) => {
      queue.push(event);
      wake?.();
    });
    const onEnd = () => wake?.();
    signal.addEventListener('abort', onEnd, { once: true });
    const offClose = this.onClose(onEnd);
    try {
      yield snapshot;
      while (!signal.aborted && !(this.closed && queue.length === 0)) {
        if (queue.length === 0) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
          continue;
        }
        const batch = queue.splice(0, queue.length);
        for (const event of batch) yield event;
      }
    } finally {
      stop();
      offClose();
      signal.removeEventListener('abort', onEnd);
    }
  }

  get queueHeld(): boolean {
    return this.holds > 0;
  }

  /**
   * A creation time for a new message, later than every message the chat has: queued messages
   * run in creation order, so two sent in the same millisecond must not tie (and fall back to
   * their random ids).
   */
  nextCreatedAt(now: number): number {
    const latest = Math.max(0, ...this.messages.map((m) => Date.parse(m.createdAt)));
    return Math.max(now, latest + 1);
  }

  message(id: string): ChatMessage | undefined {
    return this.messages.find((m) => m.id === id);
  }

  /** The next message waiting for a turn, in the order they were sent. */
  nextQueued(): ChatMessage | undefined {
    return this.messages.find((m) => m.status === 'queued');
  }

  /** Nothing running and nothing waiting. */
  get settled(): boolean {
    return !this.draining && !this.messages.some((m) => m.status === 'queued' || m.status === 'running');
  }

  /** Resolves at the next delta or when the worker stops, or when `signal` aborts. */
  changed(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** The chat was deleted: watchers end, waiters wake. */
  close(): void {
    this.closed = true;
    for (const end of this.#closers) end();
    this.#wakeWaiters();
  }

  onClose(end: () => void): () => void {
    this.#closers.add(end);
    return () => this.#closers.delete(end);
  }

  /** The worker found the queue empty: it is no longer draining. */
  stopDraining(): void {
    this.draining = false;
    this.#wakeWaiters();
  }

  #wakeWaiters(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}
