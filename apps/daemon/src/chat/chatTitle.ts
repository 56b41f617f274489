import { messageText } from '@warren/core';
import type { Actor } from '../auth/policy';
import type { Logger } from '../log/logger';
import { describeError } from './AssistantDraft';
import type { ChatLive } from './ChatLive';
import type { ChatModelRouter } from './ChatModelRouter';
import type { ChatStore } from './ChatStore';
import { askSmallModel } from './smallModel';

const TITLE_PROMPT =
  'Write a title of at most six words for a conversation that starts with the message below. Answer with the title only.';
/** A title is a nicety: a slow model must not hold the chat (or shutdown) for long. */
const TITLE_TIMEOUT_MS = 15_000;

/**
 * Names untitled chats after their first turn, beside the queue: the next message does not
 * wait for a title, and close() aborts the ones still being written.
 */
export class ChatTitles {
  readonly #closing = new AbortController();
  readonly #running = new Map<string, Promise<void>>();

  constructor(
    private readonly models: ChatModelRouter,
    private readonly store: ChatStore,
    private readonly log: Logger,
    private readonly timeoutMs = TITLE_TIMEOUT_MS,
  ) {}

  schedule(live: ChatLive, actor: Actor): void {
    const chatId = live.chat.id;
    if (live.chat.title !== null || this.#closing.signal.aborted || this.#running.has(chatId)) return;
    // Held so the title's delta reaches the same in-memory chat its watchers see.
    this.store.retain(live);
    const signal = AbortSignal.any([this.#closing.signal, AbortSignal.timeout(this.timeoutMs)]);
    const run = generateTitle(this.models, this.store, live, actor, signal)
      .catch((error) => this.log.warn({ chatId, reason: describeError(error) }, 'chat title not generated'))
      .finally(() => {
        this.#running.delete(chatId);
        this.store.release(live);
      });
    this.#running.set(chatId, run);
  }

  async close(): Promise<void> {
    this.#closing.abort();
    await Promise.allSettled([...this.#running.values()]);
  }
}

/**
 * Names an untitled chat after its first turn, with the provider's small model: routed like a
 * turn (through the gateway, as the same user and API key), so it is recorded against the chat.
 */
export async function generateTitle(
  models: ChatModelRouter,
  store: ChatStore,
  live: ChatLive,
  actor: Actor,
  signal: AbortSignal,
): Promise<void> {
  if (live.chat.title !== null) return;
  const first = live.messages.find((m) => m.role === 'user');
  if (!first) return;
  const text = await askSmallModel(
    models,
    {
      actor,
      chatId: live.chat.id,
      chatModel: live.chat.model,
      system: TITLE_PROMPT,
      prompt: messageText(first).slice(0, 4000),
    },
    signal,
  );
  const title = text
    .replace(/\s+/g, ' ')
    .replace(/^["']|["']$/g, '')
    .trim()
    .slice(0, 200);
  if (title && !live.closed && live.chat.title === null)
    await live.exclusive(() => store.updateChat(live, { title }));
}
