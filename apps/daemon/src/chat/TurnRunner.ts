import type { ChatMessage } from '@warren/core';
import { type ModelMessage, stepCountIs, streamText, type ToolSet } from 'ai';
import type { Actor } from '../auth/policy';
import type { Db } from '../db/database';
import type { Logger } from '../log/logger';
import { AssistantDraft, describeError } from './AssistantDraft';
import type { ChatLive } from './ChatLive';
import type { ChatModelRouter } from './ChatModelRouter';
import type { ChatStore } from './ChatStore';
import { activeKeyHolder } from './chatQueries';
import { toModelMessages } from './modelHistory';
import { scrubbedTools, scrubber } from './scrub';
import { workspaceRefusal } from './turnAccess';

export interface TurnOptions {
  /** Model calls (steps) one turn may make before it stops. */
  maxSteps: number;
  /** Longest wait between writes of a streaming message. */
  flushMs: number;
}

/** What a turn needs from around it: its tools, and what to do after it. */
export interface TurnHooks {
  tools(live: ChatLive, actor: Actor): ToolSet;
  /** When a turn starts (the workspace counts it as activity). */
  started(live: ChatLive): void;
  /** After a turn that ended well (title generation): must not block the queue, so it returns nothing to wait on. */
  after(live: ChatLive, actor: Actor): void;
}

export const INACTIVE_KEY_MESSAGE =
  'This message was sent with an API token or sign-in session that is no longer active (signed out, revoked or expired), ' +
  'or its user is suspended, so Warren will not call a model for it. Sign in and send it again.';

/**
 * Runs a chat's queue, one turn at a time: each queued user message gets an assistant message
 * streamed from the model (with tools, up to maxSteps model calls), attributed to the API key
 * that queued it. A turn ends done, error (with an error part saying why) or interrupted.
 *
 * Attribution: every caller has an API key id. A named token is one; a sign-in (the web's
 * session cookie, or the CLI's and desktop's session) is an api_keys row of kind 'session', so
 * a web user's turns are attributed to their sign-in session, as Coder attributes them to the
 * session's API key. The key is checked when the turn starts, not when the message was sent:
 * signing out, revoking the token, its expiry or a suspension fails the waiting turns closed,
 * with no model call. This holds with the gateway off too (the hidden direct-provider option),
 * since the user's identity should be on every action either way.
 */
export class TurnRunner {
  constructor(
    private readonly db: Db,
    private readonly store: ChatStore,
    private readonly models: ChatModelRouter,
    private readonly hooks: TurnHooks,
    private readonly log: Logger,
    private readonly options: TurnOptions,
    private readonly now: () => number,
  ) {}

  /** Starts working through the chat's queue unless a worker already is. */
  kick(live: ChatLive): void {
    if (live.draining || live.queueHeld || live.closed || !live.nextQueued()) return;
    live.draining = true;
    this.store.retain(live);
    live.worker = this.#drain(live).finally(() => this.store.release(live));
  }

  async #drain(live: ChatLive): Promise<void> {
    try {
      for (;;) {
        const next = live.queueHeld || live.closed ? undefined : live.nextQueued();
        // Cleared in the same step as the check, so a message queued after it kicks a new worker.
        if (!next) {
          live.stopDraining();
          return;
        }
        await this.#turn(live, next);
      }
    } catch (error) {
      live.stopDraining();
      this.log.error({ err: error, chatId: live.chat.id }, 'chat worker failed');
    }
  }

  /**
   * One turn. Whatever fails (a model call, a database write), the abort is cleared and the
   * statuses are settled, so the chat is never left "running" with no turn behind it; a failed
   * settle is rethrown and stops the worker (start() repairs the rows after a restart).
   */
  async #turn(live: ChatLive, user: ChatMessage): Promise<void> {
    const abort = new AbortController();
    live.turnAbort = abort;
    let assistantId: string | undefined;
    let outcome: { status: 'done' | 'error' | 'interrupted'; actor: Actor | undefined };
    try {
      const assistant = await this.#begin(live, user);
      assistantId = assistant.id;
      outcome = await this.#run(live, live.message(user.id) ?? user, assistant, abort);
    } catch (error) {
      this.log.error({ err: error, chatId: live.chat.id }, 'chat turn failed to record its progress');
      outcome = { status: 'error', actor: undefined };
    } finally {
      live.turnAbort = undefined;
    }
    const { status, actor } = outcome;
    const ids = assistantId ? [assistantId, user.id] : [user.id];
    await live.exclusive(() =>
      this.store.settle(
        live,
        ids.map((id) => ({ id, status })),
        status === 'error' ? 'error' : 'idle',
      ),
    );
    if (status === 'done' && actor) this.hooks.after(live, actor);
  }

  async #begin(live: ChatLive, user: ChatMessage): Promise<ChatMessage> {
    const history = live.messages.filter((m) => m.seq !== null && m.status !== 'queued');
    const seq = Math.max(0, ...history.map((m) => m.seq ?? 0)) + 1;
    return live.exclusive(async () => {
      await this.store.updateMessage(live, user.id, { seq, status: 'running' });
      await this.store.updateChat(live, { status: 'running' });
      return this.store.addMessage(live, {
        role: 'assistant',
        parts: [],
        status: 'running',
        apiKeyId: user.apiKeyId,
        seq: seq + 1,
      });
    });
  }

  async #run(
    live: ChatLive,
    started: ChatMessage,
    assistant: ChatMessage,
    abort: AbortController,
  ): Promise<{ status: 'done' | 'error' | 'interrupted'; actor: Actor | undefined }> {
    const history = live.messages.filter(
      (m) => m.seq !== null && m.status !== 'queued' && started.seq !== null && m.seq < started.seq,
    );
    this.hooks.started(live);
    const secrets: { reveal(): string }[] = [];
    const draft = new AssistantDraft(
      live,
      assistant.id,
      (parts) => live.exclusive(() => this.store.saveParts(assistant.id, parts)),
      scrubber(secrets),
      this.options.flushMs,
    );
    let actor: Actor | undefined;
    try {
      actor = await this.#attribute(started);
      const refusal = actor ? await workspaceRefusal(this.db, live.ids) : INACTIVE_KEY_MESSAGE;
      if (refusal) draft.fail(refusal);
      else if (actor) await this.#stream(live, actor, [...history, started], draft, abort.signal, secrets);
    } catch (error) {
      if (!abort.signal.aborted) draft.fail(describeError(error));
    }
    const aborted = draft.aborted || abort.signal.aborted;
    if (aborted && typeof abort.signal.reason === 'string') draft.note(abort.signal.reason);
    const status = draft.failure !== undefined ? 'error' : aborted ? 'interrupted' : 'done';
    await draft.flush();
    return { status, actor };
  }

  /** The user behind the API key that queued the message, if that key may still act; else the turn fails closed. */
  async #attribute(message: ChatMessage): Promise<Actor | undefined> {
    if (!message.apiKeyId) return undefined;
    const holder = await activeKeyHolder(this.db.kysely, message.apiKeyId, this.now());
    return holder && { ...holder, apiKeyId: message.apiKeyId };
  }

  async #stream(
    live: ChatLive,
    actor: Actor,
    history: ChatMessage[],
    draft: AssistantDraft,
    signal: AbortSignal,
    secrets: { reveal(): string }[],
  ): Promise<void> {
    const model = await this.models.require(live.chat.model, actor.roles);
    const routed = await this.models.route({ actor, chatId: live.chat.id, model });
    secrets.push(...routed.secrets);
    const messages: ModelMessage[] = toModelMessages(history);
    const result = streamText({
      model: routed.model,
      system: live.chat.systemPrompt ?? undefined,
      messages,
      tools: scrubbedTools(this.hooks.tools(live, actor), scrubber(secrets)),
      stopWhen: stepCountIs(this.options.maxSteps),
      abortSignal: signal,
      // A retry would be a second, invisible model call; the gateway already fails over.
      maxRetries: 0,
      // Errors arrive as stream parts; the default handler would also log them, unscrubbed.
      onError: () => {},
    });
    for await (const part of result.fullStream) draft.handle(part);
  }
}
