import { describe, expect, it } from 'vitest';
import { applyChatEvent, type ChatState, messageText } from './chatState';
import type { Chat, ChatMessage } from './schemas';

const chat: Chat = {
  id: 'c',
  owner: 'ana',
  workspace: null,
  model: 'anthropic/claude-sonnet-4-5',
  modelOverride: null,
  systemPrompt: null,
  title: null,
  summary: null,
  parentChatId: null,
  apiKeyId: 'k',
  status: 'running',
  createdAt: '2030-01-01T00:00:00.000Z',
  updatedAt: '2030-01-01T00:00:00.000Z',
};
const message = (id: string, seq: number | null, role: 'user' | 'assistant' = 'user'): ChatMessage => ({
  id,
  chatId: 'c',
  role,
  seq,
  parts: [],
  status: seq === null ? 'queued' : 'running',
  apiKeyId: 'k',
  createdAt: `2030-01-01T00:00:0${id.length}.000Z`,
  updatedAt: '2030-01-01T00:00:00.000Z',
});

function fold(...events: Parameters<typeof applyChatEvent>[1][]): ChatState {
  return events.reduce<ChatState | undefined>(applyChatEvent, undefined) as ChatState;
}

describe('folding a chat stream', () => {
  it('builds the assistant message from part starts, text and argument deltas, and part updates', () => {
    const state = fold(
      { type: 'snapshot', seq: 4, chat, messages: [message('u', 1), message('a', 2, 'assistant')] },
      {
        type: 'delta',
        seq: 5,
        delta: { type: 'part-start', messageId: 'a', index: 0, part: { type: 'text', text: '' } },
      },
      { type: 'delta', seq: 6, delta: { type: 'text-delta', messageId: 'a', index: 0, text: 'Hel' } },
      { type: 'delta', seq: 7, delta: { type: 'text-delta', messageId: 'a', index: 0, text: 'lo' } },
      {
        type: 'delta',
        seq: 8,
        delta: {
          type: 'part-start',
          messageId: 'a',
          index: 1,
          part: { type: 'tool-call', toolCallId: 't', toolName: 'grep', argsText: '', state: 'streaming' },
        },
      },
      {
        type: 'delta',
        seq: 9,
        delta: { type: 'tool-input-delta', messageId: 'a', index: 1, delta: '{"pattern":' },
      },
      {
        type: 'delta',
        seq: 10,
        delta: {
          type: 'message-status',
          messageId: 'a',
          status: 'done',
          updatedAt: '2030-01-01T00:00:09.000Z',
        },
      },
    );
    const assistant = state.messages[1] as ChatMessage;
    expect(messageText(assistant)).toBe('Hello');
    expect(assistant.parts[1]).toMatchObject({ argsText: '{"pattern":', state: 'streaming' });
    expect(assistant.status).toBe('done');
    expect(state.seq).toBe(10);
  });

  it('refuses a delta that skips or repeats one, so a client never shows a wrong chat', () => {
    const start = fold({ type: 'snapshot', seq: 1, chat, messages: [] });
    const delta = { type: 'chat' as const, chat: { ...chat, title: 'x' } };
    expect(() => applyChatEvent(start, { type: 'delta', seq: 3, delta })).toThrow(/skipped or repeated/);
    expect(() => applyChatEvent(start, { type: 'delta', seq: 1, delta })).toThrow(/skipped or repeated/);
    expect(() => applyChatEvent(undefined, { type: 'delta', seq: 2, delta })).toThrow(/before its snapshot/);
  });

  it('keeps sent messages in order and the queue after them; a new snapshot replaces everything', () => {
    const state = fold(
      { type: 'snapshot', seq: 0, chat, messages: [message('u', 1)] },
      { type: 'delta', seq: 1, delta: { type: 'message', message: message('queued', null) } },
      { type: 'delta', seq: 2, delta: { type: 'message', message: message('a', 2, 'assistant') } },
      { type: 'delta', seq: 3, delta: { type: 'messages-removed', messageIds: ['u'] } },
    );
    expect(state.messages.map((m) => m.id)).toEqual(['a', 'queued']);
    expect(applyChatEvent(state, { type: 'snapshot', seq: 9, chat, messages: [] }).messages).toEqual([]);
  });
});
