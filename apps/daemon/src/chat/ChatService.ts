import { randomUUID } from 'node:crypto';
import {
  type Chat,
  type ChatMessage,
  type ChatStreamEvent,
  type ChatSummary,
  type createChatInput,
  messageText,
  WarrenError,
} from '@warren/core';
import type { ToolSet } from 'ai';
import type { z } from 'zod';
import { type Actor, authorizeChat, hasRole } from '../auth/policy';
import type { Db } from '../db/database';
import type { GatewayHandler } from '../gateway/GatewayHandler';
import type { Logger } from '../log/logger';
import type { WorkspacesService } from '../workspaces/WorkspacesService';
import type { ChatLive } from './ChatLive';
import { ChatModelRouter } from './ChatModelRouter';
import { ChatStore } from './ChatStore';
import * as q from './chatQueries';
import { PARENT_STOPPED_NOTE, recoverTurns } from './chatRecovery';
import { ChatSummaries } from './chatSummary';
import { ChatTitles } from './chatTitle';
import { toChat } from './chatViews';
import { subagentTools } from './subagentTools';
import { type TurnOptions, TurnRunner } from './TurnRunner';
import { type WorkspaceAgentCaller, workspaceTools } from './workspaceTools';

export interface ChatServiceDeps {
  db: Db;
  gateway: GatewayHandler;
  workspaces: WorkspacesService;
  /** Runs the tools' operations in workspaces (AgentRpc). */
  agent: WorkspaceAgentCaller;
  log: Logger;
  now?: () => number;
}

export interface ChatServiceOptions extends Partial<TurnOptions> {
  /** Send model calls straight to the provider instead of through the gateway (hidden deployment option). */
  directProvider?: boolean;
}

const SHUTDOWN_NOTE = 'The Warren server stopped during this turn, so it was stopped here.';
const SUBAGENT_TITLE_CHARS = 80;
const TURN_STOPPED = 'The turn was interrupted, so no subagent was started.';

/**
 * Chats: create, list, read, delete; queue messages, interrupt and edit turns; stream a chat's
 * deltas. Turns run here, in the daemon (TurnRunner); their model calls go through the gateway
 * and their tools run in the workspace through its agent.
 */
export class ChatService {
  readonly #store: ChatStore;
  readonly #runner: TurnRunner;
  readonly #models: ChatModelRouter;
  readonly #titles: ChatTitles;
  readonly #summaries: ChatSummaries;
  readonly #now: () => number;
  /** Chats whose worker is running a turn or about to. */
  readonly #working = new Set<ChatLive>();
  #closing = false;

  constructor(
    private readonly deps: ChatServiceDeps,
    options: ChatServiceOptions = {},
  ) {
    this.#now = deps.now ?? Date.now;
    this.#store = new ChatStore(deps.db, this.#now);
    this.#models = new ChatModelRouter(deps.gateway, options.directProvider ?? false);
    this.#titles = new ChatTitles(this.#models, this.#store, deps.log);
    this.#summaries = new ChatSummaries(deps.db, this.#models, this.#store, this.#now);
    this.#runner = new TurnRunner(
      deps.db,
      this.#store,
      this.#models,
      {
        tools: (live, actor) => this.#tools(live, actor),
        started: (live) => this.#activity(live),
        after: (live, actor) => this.#titles.schedule(live, actor),
      },
      deps.log,
      { maxSteps: options.maxSteps ?? 25, flushMs: options.flushMs ?? 250 },
      this.#now,
    );
  }

  /** After a restart: cut-off turns are marked interrupted (chatRecovery), then the queues resume. */
  async start(): Promise<void> {
    for (const chatId of await recoverTurns(this.deps.db, this.#store, this.deps.log, this.#now()))
      await this.#kick(chatId);
  }

  /** Stops every running turn (each is recorded as interrupted) and waits for them to finish. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#summaries.close();
    const workers = [...this.#working].map((live) => {
      live.holds += 1;
      live.turnAbort?.abort(SHUTDOWN_NOTE);
      return live.worker;
    });
    await Promise.allSettled([...workers, this.#titles.close()]);
  }

  async create(actor: Actor, input: z.output<typeof createChatInput>): Promise<Chat> {
    const model = await this.#models.require(input.model, actor.roles);
    const workspace = input.workspace
      ? await this.deps.workspaces.get(actor, { owner: input.workspaceOwner, name: input.workspace }, 'write')
      : undefined;
    const now = this.#now();
    const id = randomUUID();
    await this.#store.createChat(
      {
        id,
        owner_id: actor.userId,
        workspace_id: workspace?.id ?? null,
        model: model.ref,
        system_prompt: input.systemPrompt ?? null,
        title: input.title ?? null,
        parent_chat_id: null,
        model_override: null,
        api_key_id: actor.apiKeyId,
        status: 'idle',
        created_at: now,
        updated_at: now,
      },
      input.message,
    );
    if (input.message) await this.#kick(id);
    return this.#view(id);
  }

  async list(actor: Actor, input: { all?: boolean; parentChatId?: string } | undefined): Promise<Chat[]> {
    const everyone = input?.all && hasRole(actor, 'owner', 'auditor');
    const rows = await q.listChats(this.deps.db.kysely, {
      ownerId: everyone ? undefined : actor.userId,
      parentChatId: input?.parentChatId ?? null,
    });
    return rows.map(toChat);
  }

  async get(actor: Actor, chatId: string): Promise<{ chat: Chat; messages: ChatMessage[] }> {
    return this.#with(actor, chatId, 'read', async (live) => ({ chat: live.chat, messages: live.messages }));
  }

  /**
   * Deletes the chat, its messages and its subagents' chats. The chat is held first (its turn
   * stopped, so it starts no subagent), then its subagents; they stay held, so no edit or
   * interrupt finishing meanwhile restarts a worker on a chat being deleted.
   */
  async delete(actor: Actor, chatId: string): Promise<void> {
    await this.#with(actor, chatId, 'write', async (live) => {
      await this.#hold(live);
      const children: ChatLive[] = [];
      try {
        for (const row of await q.listChats(this.deps.db.kysely, { parentChatId: chatId })) {
          const child = await this.#store.acquire(row.id);
          if (!child) continue;
          children.push(child);
          await this.#hold(child);
        }
        await q.deleteChat(this.deps.db.kysely, chatId);
      } catch (error) {
        for (const held of [...children, live]) this.#unhold(held);
        throw error;
      } finally {
        for (const child of children) this.#store.release(child);
      }
      // The rows cascade; whoever still holds these in memory sees them closed.
      for (const gone of [...children, live]) {
        this.#store.forget(gone.chat.id);
        gone.close();
      }
    });
  }

  async send(actor: Actor, input: { chatId: string; text: string }): Promise<ChatMessage> {
    return this.#with(actor, input.chatId, 'write', async (live) => {
      if (this.#closing)
        throw new WarrenError(
          'UNAVAILABLE',
          'The Warren server is shutting down; send the message again shortly.',
        );
      const message = await live.exclusive(() =>
        this.#store.addMessage(live, {
          role: 'user',
          parts: [{ type: 'text', text: input.text }],
          status: 'queued',
          apiKeyId: actor.apiKeyId,
        }),
      );
      this.#startWorker(live);
      return message;
    });
  }

  /**
   * Stops the running turn; what it produced so far stays, marked interrupted. Queued messages
   * then run. The turn's subagents stop too: their turns are interrupted and their queues dropped.
   */
  async interrupt(actor: Actor, chatId: string): Promise<{ interrupted: boolean }> {
    return this.#with(actor, chatId, 'write', async (live) => {
      const turn = live.turnAbort;
      turn?.abort();
      if (turn) await this.#stopSubagents(chatId);
      return { interrupted: turn !== undefined };
    });
  }

  /**
   * Edits a message and sends it again: a queued message is just changed; a sent one is
   * replaced, with everything after it removed, and a new turn answers it.
   */
  async edit(actor: Actor, input: { chatId: string; messageId: string; text: string }): Promise<ChatMessage> {
    return this.#with(actor, input.chatId, 'write', async (live) => {
      const target = live.message(input.messageId);
      if (target?.role !== 'user')
        throw new WarrenError(
          'NOT_FOUND',
          `The chat has no message of yours with the id "${input.messageId}".`,
        );
      const parts = [{ type: 'text' as const, text: input.text }];
      // Still queued: changed where it waits, and the running turn goes on.
      if (target.seq === null) {
        return live.exclusive(async () => {
          if (live.message(target.id)?.seq !== null)
            throw new WarrenError(
              'CONFLICT',
              'That message has just started its turn; edit it again to resend it.',
            );
          await this.#store.updateMessage(live, target.id, { parts });
          return live.message(target.id) ?? target;
        });
      }
      const cutTurn = await this.#hold(live);
      try {
        if (cutTurn) await this.#stopSubagents(live.chat.id);
        return await live.exclusive(async () => {
          if (live.closed)
            throw new WarrenError('NOT_FOUND', 'The chat was deleted while the message was being edited.');
          const current = live.message(input.messageId) ?? target;
          const from = current.seq ?? 0;
          const later = live.messages.filter((m) => m.seq !== null && m.seq >= from);
          await this.#store.removeMessages(
            live,
            later.map((m) => m.id),
          );
          // The replaced message's place in time: the new text runs before anything queued after it.
          return this.#store.addMessage(live, {
            role: 'user',
            parts,
            status: 'queued',
            apiKeyId: actor.apiKeyId,
            createdAt: Date.parse(current.createdAt),
          });
        });
      } finally {
        this.#unhold(live);
      }
    });
  }

  /**
   * A short summary of the conversation so far, by the small model, as the caller (their API key
   * on the gateway's record); stored on the chat, where its watchers see it. Each call writes a
   * new one. Asking is acting on the chat (a model call on its record): write access.
   */
  async summarize(actor: Actor, chatId: string, signal?: AbortSignal): Promise<ChatSummary> {
    return this.#with(actor, chatId, 'write', (live) => this.#summaries.summarize(live, actor, signal));
  }

  /** The chat's snapshot, then each delta as it happens, until `signal` aborts or the chat is deleted. */
  async *watch(actor: Actor, chatId: string, signal: AbortSignal): AsyncGenerator<ChatStreamEvent> {
    const live = await this.#store.require(chatId);
    try {
      authorizeChat(actor, live.ids.ownerId, 'read');
      yield* live.stream(signal);
    } finally {
      this.#store.release(live);
    }
  }

  /**
   * A subagent: a child chat in the same workspace, its first message queued with the parent
   * turn's API key. `turn` is the parent turn's signal: once it is aborted no subagent starts,
   * and one that started before is found and stopped by the interrupt.
   */
  async spawnSubagent(
    parent: ChatLive,
    actor: Actor,
    input: { prompt: string; model?: string | undefined },
    turn: AbortSignal | undefined,
  ): Promise<Chat> {
    const model = input.model ? await this.#models.require(input.model, actor.roles) : undefined;
    if (turn?.aborted || parent.closed) throw new WarrenError('UNAVAILABLE', TURN_STOPPED);
    const now = this.#now();
    const id = randomUUID();
    await this.#store.createChat(
      {
        id,
        owner_id: parent.ids.ownerId,
        workspace_id: parent.ids.workspaceId,
        model: model?.ref ?? parent.chat.model,
        system_prompt: parent.chat.systemPrompt,
        title: input.prompt.split('\n')[0]?.slice(0, SUBAGENT_TITLE_CHARS) || 'Subagent',
        parent_chat_id: parent.chat.id,
        model_override: model?.ref ?? null,
        api_key_id: actor.apiKeyId,
        status: 'idle',
        created_at: now,
        updated_at: now,
      },
      input.prompt,
    );
    const child = await this.#store.require(id);
    try {
      // Checked and started in one step: an interrupt after this lists the child and stops it.
      if (turn?.aborted) {
        await child.exclusive(() => this.#store.interruptMessages(child, 'queued', PARENT_STOPPED_NOTE));
        throw new WarrenError('UNAVAILABLE', TURN_STOPPED);
      }
      this.#startWorker(child);
      return child.chat;
    } finally {
      this.#store.release(child);
    }
  }

  /** Waits until a subagent's chat has no turn running or queued; its last answer and how it ended. */
  async awaitSubagent(
    parentId: string,
    chatId: string,
    signal: AbortSignal | undefined,
  ): Promise<{ status: string; text: string }> {
    const live = await this.#store.acquire(chatId);
    try {
      if (!live || live.chat.parentChatId !== parentId)
        throw new WarrenError('NOT_FOUND', `This chat started no subagent with the id "${chatId}".`);
      while (!live.settled && !live.closed && !signal?.aborted) await live.changed(signal);
      if (live.closed) throw new WarrenError('NOT_FOUND', `The subagent's chat "${chatId}" was deleted.`);
      if (signal?.aborted)
        throw new WarrenError('UNAVAILABLE', 'Stopped waiting for the subagent: the turn was interrupted.');
      const last = live.messages.filter((m) => m.role === 'assistant').at(-1);
      return { status: last?.status ?? 'idle', text: last ? messageText(last) : '' };
    } finally {
      if (live) this.#store.release(live);
    }
  }

  #tools(live: ChatLive, actor: Actor): ToolSet {
    const workspaceId = live.ids.workspaceId;
    const tools: ToolSet = workspaceId ? workspaceTools(this.deps.agent, workspaceId) : {};
    // One level of subagents: a subagent does its task itself.
    if (live.chat.parentChatId === null) Object.assign(tools, subagentTools(this, live, actor));
    return tools;
  }

  /** A turn in a workspace is activity there: it pushes the workspace's autostop back. */
  #activity(live: ChatLive): void {
    const id = live.ids.workspaceId;
    if (!id) return;
    this.deps.workspaces.bumpActivity(id).catch((error) => {
      this.deps.log.warn({ err: error, workspaceId: id }, 'could not record chat activity');
    });
  }

  #startWorker(live: ChatLive): void {
    if (this.#closing) return;
    const wasDraining = live.draining;
    this.#runner.kick(live);
    if (!wasDraining && live.draining && live.worker) {
      this.#working.add(live);
      void live.worker.finally(() => this.#working.delete(live));
    }
  }

  async #kick(chatId: string): Promise<void> {
    const live = await this.#store.acquire(chatId);
    if (!live) return;
    this.#startWorker(live);
    this.#store.release(live);
  }

  /**
   * Stops the running turn and keeps new ones from starting until #unhold; true if a turn was
   * running. Holds count, so each caller releases only its own.
   */
  async #hold(live: ChatLive): Promise<boolean> {
    live.holds += 1;
    const turn = live.turnAbort;
    turn?.abort();
    await live.worker;
    return turn !== undefined;
  }

  #unhold(live: ChatLive): void {
    live.holds -= 1;
    if (live.holds === 0) this.#startWorker(live);
  }

  /** Stops a chat's subagents: each running turn interrupted, each queued message dropped. */
  async #stopSubagents(chatId: string): Promise<void> {
    for (const row of await q.listChats(this.deps.db.kysely, { parentChatId: chatId })) {
      const child = await this.#store.acquire(row.id);
      if (!child) continue;
      try {
        await this.#hold(child);
        await child.exclusive(() => this.#store.interruptMessages(child, 'queued', PARENT_STOPPED_NOTE));
      } finally {
        this.#unhold(child);
        this.#store.release(child);
      }
    }
  }

  async #with<T>(
    actor: Actor,
    chatId: string,
    access: 'read' | 'write',
    work: (live: ChatLive) => Promise<T>,
  ): Promise<T> {
    const live = await this.#store.require(chatId);
    try {
      authorizeChat(actor, live.ids.ownerId, access);
      return await work(live);
    } finally {
      this.#store.release(live);
    }
  }

  async #view(chatId: string): Promise<Chat> {
    const row = await q.findChat(this.deps.db.kysely, chatId);
    if (!row) throw new WarrenError('NOT_FOUND', `No chat has the id "${chatId}".`);
    return toChat(row);
  }
}
