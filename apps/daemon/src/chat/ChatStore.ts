import { randomUUID } from 'node:crypto';
import {
  type ChatMessage,
  type ChatMessageStatus,
  type ChatPart,
  type ChatSummary,
  WarrenError,
} from '@warren/core';
import type { Db } from '../db/database';
import type { ChatsTable } from '../db/schema';
import { ChatLive } from './ChatLive';
import * as q from './chatQueries';
import { toChat, toMessage } from './chatViews';

interface Entry {
  live: Promise<ChatLive | undefined>;
  holders: number;
}

/**
 * The chats held in memory, and every change to one: written to the database first, then
 * emitted as a delta, inside the chat's exclusive section so deltas and rows stay in order.
 * A chat is loaded when someone needs it and dropped when no one holds it and no turn runs.
 */
export class ChatStore {
  readonly #open = new Map<string, Entry>();

  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {}

  /** The chat, held until `release`; undefined if there is no such chat. */
  async acquire(chatId: string): Promise<ChatLive | undefined> {
    let entry = this.#open.get(chatId);
    if (!entry) {
      entry = { live: this.#load(chatId), holders: 0 };
      this.#open.set(chatId, entry);
    }
    entry.holders += 1;
    const live = await entry.live.catch((error) => {
      this.#drop(chatId, entry);
      throw error;
    });
    if (!live) this.#drop(chatId, entry);
    return live;
  }

  async require(chatId: string): Promise<ChatLive> {
    const live = await this.acquire(chatId);
    if (!live) throw new WarrenError('NOT_FOUND', `No chat has the id "${chatId}", or it is not yours.`);
    return live;
  }

  /** Holds a chat already held (by the worker that starts on it). */
  retain(live: ChatLive): void {
    const entry = this.#open.get(live.chat.id);
    if (entry) entry.holders += 1;
  }

  release(live: ChatLive): void {
    const entry = this.#open.get(live.chat.id);
    if (entry) this.#drop(live.chat.id, entry);
  }

  /** Forgets a chat that was deleted, whoever holds it. */
  forget(chatId: string): void {
    this.#open.delete(chatId);
  }

  #drop(chatId: string, entry: Entry): void {
    entry.holders -= 1;
    if (entry.holders <= 0 && this.#open.get(chatId) === entry) this.#open.delete(chatId);
  }

  async #load(chatId: string): Promise<ChatLive | undefined> {
    const row = await q.findChat(this.db.kysely, chatId);
    if (!row) return undefined;
    const messages = await q.listMessages(this.db.kysely, chatId);
    return new ChatLive(toChat(row), messages.map(toMessage), {
      ownerId: row.owner_id,
      workspaceId: row.workspace_id,
    });
  }

  // Changes. Call them inside live.exclusive() so rows and deltas keep one order.

  /**
   * Adds a message. `createdAt` places it in the queue: by default after every message the chat
   * has; an edit passes the replaced message's, so the new text runs before what waits behind it.
   */
  async addMessage(live: ChatLive, message: NewMessage): Promise<ChatMessage> {
    const row = messageRow(live.chat.id, message, live.nextCreatedAt(this.now()), this.now());
    await q.insertMessage(this.db.kysely, row);
    const view = toMessage(row);
    live.emit({ type: 'message', message: view });
    return view;
  }

  /** A chat and, if given, its first message (queued), in one transaction: never a chat whose first message was lost. */
  async createChat(row: q.ChatInsert, firstMessage: string | undefined): Promise<void> {
    await this.db.kysely.transaction().execute(async (trx) => {
      await q.insertChat(trx, row);
      if (firstMessage === undefined) return;
      const message: NewMessage = {
        role: 'user',
        parts: [{ type: 'text', text: firstMessage }],
        status: 'queued',
        apiKeyId: row.api_key_id,
      };
      await q.insertMessage(trx, messageRow(row.id, message, row.created_at, row.created_at));
    });
  }

  /**
   * Marks the chat's messages of `status` interrupted, with `note` as an error part on each
   * assistant message and each queued one (a running user message stays as it was sent).
   */
  async interruptMessages(live: ChatLive, status: 'running' | 'queued', note: string): Promise<void> {
    for (const m of live.messages.filter((x) => x.status === status)) {
      const noted = m.role === 'assistant' || status === 'queued';
      const parts: ChatPart[] = [...m.parts, { type: 'error', message: note }];
      await this.updateMessage(live, m.id, { status: 'interrupted', ...(noted ? { parts } : {}) });
    }
  }

  /** Sets a message's status (and seq, parts); emitted as one delta. */
  async updateMessage(
    live: ChatLive,
    id: string,
    change: { status?: ChatMessageStatus; seq?: number; parts?: ChatPart[] },
  ): Promise<void> {
    const current = live.message(id);
    if (!current) return;
    const now = this.now();
    await q.updateMessage(this.db.kysely, id, change, now);
    if (change.seq === undefined && change.parts === undefined && change.status) {
      live.emit({
        type: 'message-status',
        messageId: id,
        status: change.status,
        updatedAt: new Date(now).toISOString(),
      });
      return;
    }
    live.emit({
      type: 'message',
      message: { ...current, ...change, updatedAt: new Date(now).toISOString() },
    });
  }

  /** Writes parts that are already in memory (the running turn's), without a delta. */
  async saveParts(id: string, parts: ChatPart[]): Promise<void> {
    await q.updateMessage(this.db.kysely, id, { parts }, this.now());
  }

  async removeMessages(live: ChatLive, ids: string[]): Promise<void> {
    if (!ids.length) return;
    await q.deleteMessages(this.db.kysely, ids);
    live.emit({ type: 'messages-removed', messageIds: ids });
  }

  /**
   * A turn's end: its messages' statuses and the chat's, written in one transaction so a failed
   * write cannot leave the chat "running" with no turn, then emitted.
   */
  async settle(
    live: ChatLive,
    messages: { id: string; status: ChatMessageStatus }[],
    chatStatus: ChatsTable['status'],
  ): Promise<void> {
    const now = this.now();
    await this.db.kysely.transaction().execute(async (trx) => {
      for (const m of messages) await q.updateMessage(trx, m.id, { status: m.status }, now);
      await q.updateChat(trx, live.chat.id, { status: chatStatus }, now);
    });
    const updatedAt = new Date(now).toISOString();
    for (const m of messages)
      if (live.message(m.id))
        live.emit({ type: 'message-status', messageId: m.id, status: m.status, updatedAt });
    live.emit({ type: 'chat', chat: { ...live.chat, status: chatStatus, updatedAt } });
  }

  /** The chat's new summary; watchers get it as a chat delta (updatedAt unchanged: see setSummary). */
  async saveSummary(live: ChatLive, text: string, upToSeq: number): Promise<ChatSummary> {
    const at = this.now();
    await q.setSummary(this.db.kysely, live.chat.id, { text, upToSeq, at });
    const summary: ChatSummary = { text, upToSeq, createdAt: new Date(at).toISOString() };
    live.emit({ type: 'chat', chat: { ...live.chat, summary } });
    return summary;
  }

  async updateChat(live: ChatLive, change: Partial<Pick<ChatsTable, 'status' | 'title'>>): Promise<void> {
    const now = this.now();
    await q.updateChat(this.db.kysely, live.chat.id, change, now);
    live.emit({ type: 'chat', chat: { ...live.chat, ...change, updatedAt: new Date(now).toISOString() } });
  }
}

export interface NewMessage {
  role: 'user' | 'assistant';
  parts: ChatPart[];
  status: ChatMessageStatus;
  apiKeyId: string | null;
  seq?: number;
  /** Milliseconds; see addMessage. */
  createdAt?: number;
}

/** The row for a new message (also written directly where a chat and its first message are created together). */
export function messageRow(
  chatId: string,
  message: NewMessage,
  createdAt: number,
  now: number,
): q.ChatMessageRow {
  return {
    id: randomUUID(),
    chat_id: chatId,
    seq: message.seq ?? null,
    role: message.role,
    parts: JSON.stringify(message.parts),
    api_key_id: message.apiKeyId,
    status: message.status,
    created_at: message.createdAt ?? createdAt,
    updated_at: now,
  };
}
