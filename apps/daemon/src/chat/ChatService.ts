import { randomUUID } from 'node:crypto';
import {
  type Chat,
  type ChatMessage,
  type ChatStreamEvent,
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
import { generateTitle } from './chatTitle';
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

const RESTART_NOTE = 'The Warren server restarted during this turn, so it was stopped here.';
const SHUTDOWN_NOTE = 'The Warren server stopped during this turn, so it was stopped here.';
const SUBAGENT_TITLE_CHARS = 80;

/**
 * Chats: create, list, read, delete; queue messages, interrupt and edit turns; stream a chat's
 * deltas. Turns run here, in the daemon (TurnRunner); their model calls go through the gateway
 * and their tools run in the workspace through its agent.
 */
export class ChatService {
  readonly #store: ChatStore;
  readonly #runner: TurnRunner;
  readonly #models: ChatModelRouter;
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
    this.#runner = new TurnRunner(
      deps.db,
      this.#store,
      this.#models,
      {
        tools: (live, actor) => this.#tools(live, actor),
        started: (live) => this.#activity(live),
        after: (live, actor) => generateTitle(this.#models, this.#store, live, actor),
      },
      deps.log,
      { maxSteps: options.maxSteps ?? 25, flushMs: options.flushMs ?? 250 },
      this.#now,
    );
  }

  /** After a restart: turns that were running are marked interrupted (saying why); queues resume. */
  async start(): Promise<void> {
    const { running, queued } = await q.chatsWithUnfinishedTurns(this.deps.db.kysely);
    for (const chatId of running) {
      const live = await this.#store.acquire(chatId);
      if (!live) continue;
      await live.exclusive(async () => {
        for (const m of live.messages.filter((x) => x.status === 'running')) {
          const parts =
            m.role === 'assistant'
              ? [...m.parts, { type: 'error' as const, message: RESTART_NOTE }]
              : undefined;
          await this.#store.updateMessage(live, m.id, { status: 'interrupted', ...(parts ? { parts } : {}) });
        }
        await this.#store.updateChat(live, { status: 'idle' });
      });
      this.#store.release(live);
    }
    if (running.length)
      this.deps.log.warn(
        { chats: running.length },
        'chat turns cut short by a restart were marked interrupted',
      );
    for (const chatId of queued) await this.#kick(chatId);
  }

  /** Stops every running turn (each is recorded as interrupted) and waits for them to finish. */
  async close(): Promise<void> {
    this.#closing = true;
    const workers = [...this.#working].map((live) => {
      live.queueHeld = true;
      live.turnAbort?.abort(SHUTDOWN_NOTE);
      return live.worker;
    });
    await Promise.allSettled(workers);
  }

  async create(actor: Actor, input: z.output<typeof createChatInput>): Promise<Chat> {
    const model = await this.#models.require(input.model, actor.roles);
    const workspace = input.workspace
      ? await this.deps.workspaces.get(actor, { owner: input.workspaceOwner, name: input.workspace }, 'write')
      : undefined;
    const now = this.#now();
    const id = randomUUID();
    await q.insertChat(this.deps.db.kysely, {
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
    });
    if (input.message) await this.send(actor, { chatId: id, text: input.message });
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

  /** Deletes the chat, its messages and its subagents' chats; a running turn is stopped first. */
  async delete(actor: Actor, chatId: string): Promise<void> {
    await this.#with(actor, chatId, 'write', async (live) => {
      // Its subagents go with it (the rows cascade): stop their turns first.
      for (const child of await q.listChats(this.deps.db.kysely, { parentChatId: chatId })) {
        const held = await this.#store.acquire(child.id);
        if (!held) continue;
        await this.#hold(held);
        this.#store.forget(child.id);
        held.close();
        this.#store.release(held);
      }
      await this.#hold(live);
      await q.deleteChat(this.deps.db.kysely, chatId);
      this.#store.forget(chatId);
      live.close();
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

  /** Stops the running turn; what it produced so far stays, marked interrupted. Queued messages then run. */
  async interrupt(actor: Actor, chatId: string): Promise<{ interrupted: boolean }> {
    return this.#with(actor, chatId, 'write', async (live) => {
      const turn = live.turnAbort;
      turn?.abort();
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
      await this.#hold(live);
      try {
        return await live.exclusive(async () => {
          const current = live.message(input.messageId) ?? target;
          const from = current.seq ?? 0;
          const later = live.messages.filter((m) => m.seq !== null && m.seq >= from);
          await this.#store.removeMessages(
            live,
            later.map((m) => m.id),
          );
          return this.#store.addMessage(live, {
            role: 'user',
            parts,
            status: 'queued',
            apiKeyId: actor.apiKeyId,
          });
        });
      } finally {
        live.queueHeld = false;
        this.#startWorker(live);
      }
    });
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

  /** A subagent: a child chat in the same workspace, its first message queued with the parent turn's API key. */
  async spawnSubagent(
    parent: ChatLive,
    actor: Actor,
    input: { prompt: string; model?: string | undefined },
  ): Promise<Chat> {
    const model = input.model ? await this.#models.require(input.model, actor.roles) : undefined;
    const now = this.#now();
    const id = randomUUID();
    await q.insertChat(this.deps.db.kysely, {
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
    });
    const child = await this.#store.require(id);
    try {
      await child.exclusive(() =>
        this.#store.addMessage(child, {
          role: 'user',
          parts: [{ type: 'text', text: input.prompt }],
          status: 'queued',
          apiKeyId: actor.apiKeyId,
        }),
      );
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

  /** Stops the running turn and keeps new ones from starting until the caller is done. */
  async #hold(live: ChatLive): Promise<void> {
    live.queueHeld = true;
    live.turnAbort?.abort();
    await live.worker;
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
