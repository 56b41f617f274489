import { messageText } from '@warren/core';
import { generateText } from 'ai';
import type { Actor } from '../auth/policy';
import type { ChatLive } from './ChatLive';
import type { ChatModelRouter } from './ChatModelRouter';
import type { ChatStore } from './ChatStore';

const TITLE_PROMPT =
  'Write a title of at most six words for a conversation that starts with the message below. Answer with the title only.';

/**
 * Names an untitled chat after its first turn, with the provider's small model: routed like a
 * turn (through the gateway, as the same user and API key), so it is recorded against the chat.
 */
export async function generateTitle(
  models: ChatModelRouter,
  store: ChatStore,
  live: ChatLive,
  actor: Actor,
): Promise<void> {
  if (live.chat.title !== null) return;
  const first = live.messages.find((m) => m.role === 'user');
  if (!first) return;
  const model = await models.small(await models.require(live.chat.model, actor.roles), actor.roles);
  const routed = await models.route({ actor, chatId: live.chat.id, model });
  const { text } = await generateText({
    model: routed.model,
    system: TITLE_PROMPT,
    prompt: messageText(first).slice(0, 4000),
    maxRetries: 0,
  });
  const title = text
    .replace(/\s+/g, ' ')
    .replace(/^["']|["']$/g, '')
    .trim()
    .slice(0, 200);
  if (title) await live.exclusive(() => store.updateChat(live, { title }));
}
