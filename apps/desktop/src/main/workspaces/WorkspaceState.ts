import { EventEmitter } from 'node:events';
import type { Unsubscribable } from '@trpc/server/observable';
import { Backoff } from '@warren/core';
import type { DaemonClient, DaemonOutputs, WorkspaceView } from '../api/daemonClient';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'signed-out';

export type ChatSummary = Pick<DaemonOutputs['chats']['list'][number], 'id' | 'title' | 'updatedAt'>;

export interface WorkspaceSnapshot {
  connection: ConnectionState;
  /** Why the connection is not up, as a sentence (the last error), when it is not. */
  detail: string | undefined;
  /** The caller's workspaces by name, sorted. */
  workspaces: WorkspaceView[];
  /** The most recent chats, newest first; undefined when the daemon has no chat API. */
  chats: ChatSummary[] | undefined;
  me: string | undefined;
}

export interface WorkspaceStateEvents {
  change: [snapshot: WorkspaceSnapshot];
}

const RECENT_CHATS = 5;

/**
 * The live list of the signed-in person's workspaces: a list to start, then the daemon's
 * `workspaces.watch` subscription applied on top. The watch only reports changes, so every
 * (re)connection lists again once the subscription is up, which closes the gap in between.
 * A dropped connection is redialled with backoff; a rejected token ends it (signed out).
 */
export class WorkspaceState extends EventEmitter<WorkspaceStateEvents> {
  readonly #workspaces = new Map<string, WorkspaceView>();
  #chats: ChatSummary[] | undefined;
  #me: string | undefined;
  #connection: ConnectionState = 'connecting';
  #detail: string | undefined;
  #subscription: Unsubscribable | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #backoff: Backoff;

  constructor(
    private readonly client: DaemonClient,
    options: { minBackoffMs?: number; maxBackoffMs?: number } = {},
  ) {
    super();
    this.#backoff = new Backoff({
      initialMs: options.minBackoffMs ?? 250,
      maxMs: options.maxBackoffMs ?? 15_000,
      factor: 1.5,
    });
  }

  start(): void {
    this.#subscribe();
  }

  snapshot(): WorkspaceSnapshot {
    return {
      connection: this.#connection,
      detail: this.#detail,
      workspaces: [...this.#workspaces.values()].sort((a, b) => a.name.localeCompare(b.name)),
      chats: this.#chats,
      me: this.#me,
    };
  }

  workspace(name: string): WorkspaceView | undefined {
    return this.#workspaces.get(name);
  }

  /** Resolves once `predicate` holds for a snapshot (now or after a change). */
  until(predicate: (snapshot: WorkspaceSnapshot) => boolean): Promise<WorkspaceSnapshot> {
    const now = this.snapshot();
    if (predicate(now)) return Promise.resolve(now);
    return new Promise((resolve) => {
      const check = (snapshot: WorkspaceSnapshot) => {
        if (!predicate(snapshot)) return;
        this.off('change', check);
        resolve(snapshot);
      };
      this.on('change', check);
    });
  }

  /** Resolves true at the first later change for which `predicate` holds, false after `timeoutMs`. */
  nextChange(predicate: (snapshot: WorkspaceSnapshot) => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (result: boolean) => {
        clearTimeout(timer);
        this.off('change', check);
        resolve(result);
      };
      const check = (snapshot: WorkspaceSnapshot) => predicate(snapshot) && done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.on('change', check);
    });
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
  }

  #subscribe(): void {
    if (this.#closed) return;
    this.#subscription = this.client.workspaces.watch.subscribe(undefined, {
      onStarted: () => {
        void this.#resync();
      },
      onData: (event) => {
        if ('deleted' in event) {
          for (const [name, view] of this.#workspaces)
            if (view.id === event.id) this.#workspaces.delete(name);
        } else {
          this.#workspaces.set(event.name, event);
        }
        this.#emit();
      },
      onConnectionStateChange: (state) => {
        // The link redials on its own at a fixed pace (seconds apart); we take over with backoff,
        // on a drop and on a redial that failed, so a restarted server is seen within a step.
        if (state.state === 'connecting' && state.error) this.#dropped(state.error.message);
      },
      onError: (error) => this.#dropped(error.message, (error.data as { code?: string } | undefined)?.code),
      onComplete: () => {
        if (!this.#closed) this.#dropped('the server ended the workspace stream');
      },
    });
  }

  async #resync(): Promise<void> {
    try {
      const [me, list] = await Promise.all([
        this.client.auth.whoami.query(),
        this.client.workspaces.list.query({}),
      ]);
      this.#me = me.username;
      this.#workspaces.clear();
      for (const view of list) this.#workspaces.set(view.name, view);
      this.#chats = await this.#recentChats();
      this.#backoff.reset();
      this.#setConnection('connected', undefined);
    } catch (error) {
      this.#dropped((error as Error).message, (error as { data?: { code?: string } }).data?.code);
    }
  }

  /** Chats are optional: a daemon without the chat API (or chat turned off) leaves them out of the tray. */
  async #recentChats(): Promise<ChatSummary[] | undefined> {
    try {
      const chats = await this.client.chats.list.query(undefined);
      return [...chats]
        .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
        .slice(0, RECENT_CHATS)
        .map((chat) => ({ id: chat.id, title: chat.title, updatedAt: chat.updatedAt }));
    } catch {
      return undefined;
    }
  }

  #dropped(message: string, code?: string): void {
    if (this.#closed) return;
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
    clearTimeout(this.#retry);
    if (code === 'UNAUTHORIZED') {
      this.#setConnection('signed-out', 'The server no longer accepts this token; sign in again.');
      return;
    }
    this.#setConnection('reconnecting', message);
    this.#retry = setTimeout(() => this.#subscribe(), this.#backoff.next());
  }

  #setConnection(state: ConnectionState, detail: string | undefined): void {
    this.#connection = state;
    this.#detail = detail;
    this.#emit();
  }

  #emit(): void {
    this.emit('change', this.snapshot());
  }
}
