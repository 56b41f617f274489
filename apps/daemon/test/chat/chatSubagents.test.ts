import { messageText } from '@warren/core';
import { describe, expect, it } from 'vitest';
import type { RecordedRequest, ScriptedReply } from '../ai/FakeModelProvider';
import { dialects } from '../harness';
import { ChatWatcher, interceptionsOf, useChatWorld } from './chatWorld';

const PARENT = 'anthropic/claude-sonnet-4-5';
const CHILD = 'anthropic/claude-haiku-4-5';

/**
 * The model's side of the conversation, decided from each request (the parent's and the
 * subagent's calls interleave in an order the test does not fix): the parent spawns a
 * subagent on the small model, waits for it, then reports its answer.
 */
function delegatingModel(request: RecordedRequest): ScriptedReply {
  const body = request.body as { model: string };
  const seen = JSON.stringify(request.body);
  if (body.model === 'claude-haiku-4-5') return { text: 'The answer is 42.' };
  if (seen.includes('ended (done)')) return { text: 'My subagent says the answer is 42.' };
  const started = /Subagent started: chatId ([0-9a-f-]{36})/.exec(seen);
  if (started) return { toolCalls: [{ name: 'wait_subagent', arguments: { chatId: started[1] } }] };
  return { toolCalls: [{ name: 'spawn_subagent', arguments: { prompt: 'Find the answer.', model: CHILD } }] };
}

describe.each(dialects)('subagents on %s', (dialect) => {
  const w = useChatWorld(dialect);

  it('a turn spawns a subagent on another model, waits for it, and every call carries the same API key', async () => {
    w.fake.setDefaultReply(delegatingModel);
    const chat = await w.client().chats.create.mutate({ model: PARENT, title: 'Delegation' });
    const watcher = new ChatWatcher(w.client(), chat.id);
    const sent = await w.client().chats.send.mutate({ chatId: chat.id, text: 'What is the answer?' });
    const state = await watcher.settled(20_000);
    watcher.close();

    const answer = state.messages.at(-1);
    expect(answer?.status).toBe('done');
    expect(messageText(answer ?? { parts: [] })).toBe('My subagent says the answer is 42.');
    expect(answer?.parts.map((p) => (p.type === 'tool-call' ? p.toolName : p.type))).toEqual([
      'spawn_subagent',
      'tool-result',
      'wait_subagent',
      'tool-result',
      'text',
    ]);

    const [child] = await w.client().chats.list.query({ parentChatId: chat.id });
    expect(child).toMatchObject({
      parentChatId: chat.id,
      model: CHILD,
      modelOverride: CHILD,
      apiKeyId: sent.apiKeyId,
      workspace: null,
      status: 'idle',
    });
    const childChat = await w.client().chats.get.query({ chatId: child?.id ?? '' });
    expect(childChat.messages.map((m) => [m.role, m.apiKeyId, m.status])).toEqual([
      ['user', sent.apiKeyId, 'done'],
      ['assistant', sent.apiKeyId, 'done'],
    ]);
    // Subagents are not listed among the user's top-level chats.
    expect((await w.client().chats.list.query()).map((c) => c.id)).not.toContain(child?.id);

    const parentRows = await interceptionsOf(w.t, chat.id);
    const childRows = await interceptionsOf(w.t, child?.id ?? '');
    expect(parentRows.map((r) => r.model)).toEqual([
      'claude-sonnet-4-5',
      'claude-sonnet-4-5',
      'claude-sonnet-4-5',
    ]);
    expect(childRows.map((r) => r.model)).toEqual(['claude-haiku-4-5']);
    expect(new Set([...parentRows, ...childRows].map((r) => r.api_key_id))).toEqual(new Set([sent.apiKeyId]));
  });
});
