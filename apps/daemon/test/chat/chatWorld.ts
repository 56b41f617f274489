import { setTimeout as sleep } from 'node:timers/promises';
import { applyChatEvent, type ChatState, type ChatStreamEvent, messageText } from '@warren/core';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { DaemonOptions } from '../../src/server';
import { type FakeModelProvider, startFakeModelProvider } from '../ai/FakeModelProvider';
import { addFakeProviders, addModel, newProviderKey, userIdOf } from '../gateway/gatewayFixtures';
import { ANTHROPIC_PRICES, OPENAI_PRICES } from '../gateway/wireSamples';
import { startTestDaemon, type TestDaemon, type TestDialect } from '../harness';

/** The two wire formats a chat turn can speak, by the model the chat names. */
export const families = [
  { family: 'openai', model: 'openai/gpt-4.1', small: 'openai/gpt-4.1-mini' },
  { family: 'anthropic', model: 'anthropic/claude-sonnet-4-5', small: 'anthropic/claude-haiku-4-5' },
] as const;

/** A daemon with an OpenAI and an Anthropic provider (central keys) in front of one scripted fake. */
export interface ChatWorld {
  t: TestDaemon;
  fake: FakeModelProvider;
  owner: { token: string; userId: string; password: string };
  providers: { openai: string; anthropic: string };
  centralKeys: { openai: string; anthropic: string };
  client(): ReturnType<TestDaemon['client']>;
  close(): Promise<void>;
}

export async function startChatWorld(
  dialect: TestDialect,
  options: DaemonOptions & { flags?: Record<string, string> } = {},
): Promise<ChatWorld> {
  const centralKeys = {
    openai: newProviderKey('sk-chat-central-openai'),
    anthropic: newProviderKey('sk-ant-chat-central'),
  };
  const fake = await startFakeModelProvider({ apiKey: [centralKeys.openai, centralKeys.anthropic] });
  const t = await startTestDaemon(dialect, options);
  const { token, username, password } = await t.setupOwner();
  const providers = await addFakeProviders(t, fake.url, centralKeys);
  await addModel(t, providers.openai, 'gpt-4.1', OPENAI_PRICES);
  await addModel(t, providers.openai, 'gpt-4.1-mini', OPENAI_PRICES);
  await addModel(t, providers.anthropic, 'claude-sonnet-4-5', ANTHROPIC_PRICES);
  await addModel(t, providers.anthropic, 'claude-haiku-4-5', ANTHROPIC_PRICES);
  return {
    t,
    fake,
    owner: { token, userId: await userIdOf(t, username), password },
    providers,
    centralKeys,
    client: () => t.client(token),
    close: async () => {
      await t.close();
      await fake.close();
    },
  };
}

/** The suite's world: started before its tests, the fake's script cleared before each, closed after. */
export function useChatWorld(dialect: TestDialect): ChatWorld {
  const world = {} as ChatWorld;
  beforeAll(async () => {
    Object.assign(world, await startChatWorld(dialect));
  });
  beforeEach(() => world.fake?.reset());
  afterAll(() => world.close?.());
  return world;
}

/**
 * A client watching a chat over the real subscription (SSE): every event kept in order, and
 * folded into the chat as a UI would, which throws if a delta is skipped or repeated.
 */
export class ChatWatcher {
  readonly events: ChatStreamEvent[] = [];
  state: ChatState | undefined;
  error: unknown;
  /** The server ended the stream (the chat was deleted). */
  ended = false;
  #unsubscribe: () => void;

  constructor(client: ReturnType<TestDaemon['client']>, chatId: string) {
    const sub = client.chats.watch.subscribe(
      { chatId },
      {
        onData: (event) => {
          this.events.push(event as ChatStreamEvent);
          try {
            this.state = applyChatEvent(this.state, event as ChatStreamEvent);
          } catch (error) {
            this.error ??= error;
          }
        },
        onError: (error) => {
          this.error ??= error;
        },
        onComplete: () => {
          this.ended = true;
        },
      },
    );
    this.#unsubscribe = () => sub.unsubscribe();
  }

  /** Waits until `done` holds for the folded chat. */
  async until(done: (state: ChatState) => boolean, timeoutMs = 10_000): Promise<ChatState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.error) throw this.error;
      if (this.state && done(this.state)) return this.state;
      if (Date.now() > deadline)
        throw new Error(`The chat did not get there in ${timeoutMs} ms: ${JSON.stringify(this.state)}`);
      await sleep(10);
    }
  }

  /** Until the chat has no turn running and none queued. */
  settled(timeoutMs?: number): Promise<ChatState> {
    return this.until(
      (s) =>
        s.chat.status !== 'running' &&
        s.messages.length > 0 &&
        s.messages.every((m) => m.status !== 'queued' && m.status !== 'running'),
      timeoutMs,
    );
  }

  deltas() {
    return this.events.flatMap((e) => (e.type === 'delta' ? [e.delta] : []));
  }

  close(): void {
    this.#unsubscribe();
  }
}

/** The text of the chat's latest assistant message ('' before there is one). */
export function answerSoFar(state: ChatState): string {
  const last = state.messages.filter((m) => m.role === 'assistant').at(-1);
  return last ? messageText(last) : '';
}

/** The gateway rows of one chat, once every call in flight has been recorded. */
export async function interceptionsOf(t: TestDaemon, chatId: string) {
  await t.daemon.services.gateway.settle();
  return t.daemon.db.kysely
    .selectFrom('gateway_interceptions')
    .selectAll()
    .where('chat_id', '=', chatId)
    .orderBy('time')
    .execute();
}
