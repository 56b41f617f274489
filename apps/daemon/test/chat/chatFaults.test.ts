import { messageText } from '@warren/core';
import { describe, expect, it } from 'vitest';
import { dialects } from '../harness';
import { ChatWatcher, families, interceptionsOf, useChatWorld } from './chatWorld';

const partial = { text: 'The first words arrive, and then the provider breaks down.', chunkChars: 4 };

describe.each(dialects)('upstream faults during a turn on %s', (dialect) => {
  const w = useChatWorld(dialect);

  describe.each(families)('in the $family wire format', ({ model }) => {
    async function turn(title: string) {
      const chat = await w.client().chats.create.mutate({ model, title });
      const watcher = new ChatWatcher(w.client(), chat.id);
      await w.client().chats.send.mutate({ chatId: chat.id, text: 'Tell me something.' });
      const state = await watcher.settled();
      watcher.close();
      return { chat, state, assistant: state.messages.at(-1) };
    }

    it('an error event mid-stream ends the turn in error, keeping the words that came and saying why', async () => {
      w.fake.script([{ status: 500, message: 'The engine overheated.', afterChunks: 5, reply: partial }]);
      const { chat, state, assistant } = await turn('Error event');
      expect(assistant?.status).toBe('error');
      expect(messageText(assistant ?? { parts: [] }).length).toBeGreaterThan(0);
      expect(partial.text.startsWith(messageText(assistant ?? { parts: [] }))).toBe(true);
      expect(assistant?.parts.at(-1)).toMatchObject({
        type: 'error',
        message: expect.stringContaining('The engine overheated.'),
      });
      expect(state.chat.status).toBe('error');
      expect(await interceptionsOf(w.t, chat.id)).toHaveLength(1);

      // The chat is not stuck: the next message gets a normal turn.
      w.fake.script([{ text: 'Recovered.' }]);
      const watcher = new ChatWatcher(w.client(), chat.id);
      await w.client().chats.send.mutate({ chatId: chat.id, text: 'Again?' });
      const after = await watcher.until((s) => s.messages.length === 4 && s.chat.status === 'idle');
      watcher.close();
      expect(messageText(after.messages[3] ?? { parts: [] })).toBe('Recovered.');
      expect(after.chat.status).toBe('idle');
    });

    it('a connection reset mid-stream ends the turn in error with a sentence about the provider', async () => {
      w.fake.script([{ fault: 'reset', afterChunks: 5, reply: partial }]);
      const { assistant } = await turn('Reset');
      expect(assistant?.status).toBe('error');
      const error = assistant?.parts.at(-1);
      expect(error?.type).toBe('error');
      expect(error?.type === 'error' && error.message.length).toBeGreaterThan(10);
    });

    it('a refusal before any output (rate limit) ends the turn in error with the provider’s message', async () => {
      w.fake.script([{ status: 429, message: 'Slow down, please.' }]);
      const { assistant } = await turn('Rate limited');
      expect(assistant?.status).toBe('error');
      expect(assistant?.parts).toEqual([
        { type: 'error', message: expect.stringContaining('Slow down, please.') },
      ]);
    });
  });
});
