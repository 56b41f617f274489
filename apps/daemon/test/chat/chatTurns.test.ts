import { type ChatPart, messageText } from '@warren/core';
import { describe, expect, it } from 'vitest';
import { dialects } from '../harness';
import { answerSoFar, ChatWatcher, families, interceptionsOf, useChatWorld } from './chatWorld';

const textParts = (parts: ChatPart[]) => parts.filter((p) => p.type === 'text');

describe.each(dialects)('chat turns on %s', (dialect) => {
  const w = useChatWorld(dialect);

  describe.each(families)('in the $family wire format', ({ family, model, small }) => {
    it('streams every delta of a turn to the client in order, and the client ends with what was stored', async () => {
      const answer = 'Paris is the capital of France, on the Seine.';
      w.fake.script([{ text: answer, chunkChars: 4, usage: { input: 20, output: 12 } }]);
      const systemPrompt = 'You answer geography questions in one sentence.';
      const chat = await w.client().chats.create.mutate({ model, title: 'Capitals', systemPrompt });
      const watcher = new ChatWatcher(w.client(), chat.id);
      await watcher.until(() => true);
      const sent = await w
        .client()
        .chats.send.mutate({ chatId: chat.id, text: 'What is the capital of France?' });
      const state = await watcher.settled();
      watcher.close();

      const assistant = state.messages.find((m) => m.role === 'assistant');
      expect(assistant?.status).toBe('done');
      expect(messageText(assistant ?? { parts: [] })).toBe(answer);
      // Streamed piece by piece, in order: the deltas alone spell the answer.
      const pieces = watcher.deltas().flatMap((d) => (d.type === 'text-delta' ? [d.text] : []));
      expect(pieces.length).toBeGreaterThan(5);
      expect(pieces.join('')).toBe(answer);
      // What the client folded is exactly what the server stored.
      const stored = await w.client().chats.get.query({ chatId: chat.id });
      expect(state.messages).toEqual(stored.messages);
      expect(stored.chat.status).toBe('idle');

      // One gateway record for the one model call, with the chat and the key that sent the message.
      const rows = await interceptionsOf(w.t, chat.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        chat_id: chat.id,
        api_key_id: sent.apiKeyId,
        user_id: w.owner.userId,
        status: 200,
        streaming: 1,
        credential: 'central',
        input_tokens: 20,
        output_tokens: 12,
      });
      expect(sent.apiKeyId).toBeTruthy();
      expect(assistant?.apiKeyId).toBe(sent.apiKeyId);
      // The provider got the conversation, with the central key put in by the gateway.
      const request = w.fake.lastRequest();
      expect(JSON.stringify(request.body)).toContain('What is the capital of France?');
      expect(JSON.stringify(request.body)).toContain(systemPrompt);
      expect(request.headers[family === 'anthropic' ? 'x-api-key' : 'authorization']).toContain(
        w.centralKeys[family],
      );
    });

    it('runs several steps: a tool call the model cannot make comes back to it as an error, and it answers', async () => {
      w.fake.script([
        { text: 'Let me look.', toolCalls: [{ name: 'read_file', arguments: { path: 'README.md' } }] },
        { text: 'This chat has no workspace, so I cannot read files.' },
      ]);
      const chat = await w.client().chats.create.mutate({ model, title: 'No workspace' });
      const watcher = new ChatWatcher(w.client(), chat.id);
      const sent = await w.client().chats.send.mutate({ chatId: chat.id, text: 'Read the README.' });
      const state = await watcher.settled();
      watcher.close();
      const assistant = state.messages.find((m) => m.role === 'assistant');
      const parts = assistant?.parts ?? [];
      expect(parts.map((p) => p.type)).toEqual(['text', 'tool-call', 'tool-result', 'text']);
      expect(parts[1]).toMatchObject({
        type: 'tool-call',
        toolName: 'read_file',
        args: { path: 'README.md' },
        state: 'called',
      });
      expect(parts[2]).toMatchObject({ type: 'tool-result', toolName: 'read_file', isError: true });
      expect(textParts(parts).at(-1)).toMatchObject({
        text: 'This chat has no workspace, so I cannot read files.',
      });
      // The tool call's arguments streamed as they came, and the model's second call saw the error.
      const kinds = watcher.deltas().map((d) => d.type);
      expect(kinds).toContain('tool-input-delta');
      expect(kinds.indexOf('tool-input-delta')).toBeLessThan(kinds.indexOf('part-update'));
      expect(JSON.stringify(w.fake.lastRequest().body)).toContain('read_file');
      const rows = await interceptionsOf(w.t, chat.id);
      expect(rows.map((r) => [r.chat_id, r.api_key_id])).toEqual([
        [chat.id, sent.apiKeyId],
        [chat.id, sent.apiKeyId],
      ]);
      expect(JSON.parse(rows[0]?.tool_calls ?? '[]')).toMatchObject([{ name: 'read_file' }]);
    });

    it('a client that leaves mid-turn and comes back gets the turn so far, then the rest, missing nothing', async () => {
      const answer = 'One, two, three, four, five, six, seven, eight, nine, ten, eleven, twelve.';
      w.fake.script([{ text: answer, chunkChars: 3, chunkDelayMs: 25 }]);
      const chat = await w.client().chats.create.mutate({ model, title: 'Counting' });
      const first = new ChatWatcher(w.client(), chat.id);
      await w.client().chats.send.mutate({ chatId: chat.id, text: 'Count to twelve.' });
      await first.until((s) => answerSoFar(s).length >= 9);
      first.close();
      // Gone for a while, as a laptop closing its lid would be.
      await new Promise((r) => setTimeout(r, 200));
      const second = new ChatWatcher(w.client(), chat.id);
      const joined = await second.until(() => true);
      const soFar = messageText(joined.messages.at(-1) ?? { parts: [] });
      expect(joined.messages.at(-1)?.status).toBe('running');
      expect(soFar.length).toBeGreaterThan(9);
      expect(answer.startsWith(soFar)).toBe(true);
      const end = await second.settled();
      second.close();
      expect(messageText(end.messages.at(-1) ?? { parts: [] })).toBe(answer);
      expect(end.messages).toEqual((await w.client().chats.get.query({ chatId: chat.id })).messages);
    });

    it('titles an untitled chat after its first turn with the small model, recorded against the chat', async () => {
      w.fake.script([{ text: 'Sure: 4.' }, { text: 'Adding two and two' }]);
      const chat = await w.client().chats.create.mutate({ model, message: 'What is 2 + 2?' });
      expect(chat.title).toBeNull();
      const watcher = new ChatWatcher(w.client(), chat.id);
      const state = await watcher.until((s) => s.chat.title !== null);
      watcher.close();
      expect(state.chat.title).toBe('Adding two and two');
      const rows = await interceptionsOf(w.t, chat.id);
      expect(rows.map((r) => r.model)).toEqual([model.split('/')[1], small.split('/')[1]]);
      expect(new Set(rows.map((r) => r.api_key_id)).size).toBe(1);
    });
  });

  it('the model’s reasoning streams and is stored as its own part, before the answer', async () => {
    const sse = (type: string, fields: object) =>
      `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;
    const thinking = ['The user asks ', 'for 6 times 7; ', 'that is 42.'];
    w.fake.script([
      {
        events: [
          sse('message_start', {
            message: {
              id: 'msg_reasoning',
              type: 'message',
              role: 'assistant',
              model: 'claude-sonnet-4-5',
              content: [],
              stop_reason: null,
              stop_sequence: null,
              usage: { input_tokens: 12, output_tokens: 1 },
            },
          }),
          sse('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }),
          ...thinking.map((text) =>
            sse('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: text } }),
          ),
          sse('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'c2lnbmVk' } }),
          sse('content_block_stop', { index: 0 }),
          sse('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }),
          sse('content_block_delta', { index: 1, delta: { type: 'text_delta', text: '42.' } }),
          sse('content_block_stop', { index: 1 }),
          sse('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 20 } }),
          sse('message_stop', {}),
        ],
      },
    ]);
    const chat = await w
      .client()
      .chats.create.mutate({ model: 'anthropic/claude-sonnet-4-5', title: 'Reasoning' });
    const watcher = new ChatWatcher(w.client(), chat.id);
    await w.client().chats.send.mutate({ chatId: chat.id, text: 'What is 6 times 7?' });
    const state = await watcher.settled();
    watcher.close();
    const assistant = state.messages.at(-1);
    expect(assistant?.status).toBe('done');
    expect(assistant?.parts).toEqual([
      { type: 'reasoning', text: thinking.join('') },
      { type: 'text', text: '42.' },
    ]);
    const reasoningDeltas = watcher
      .deltas()
      .flatMap((d) => (d.type === 'text-delta' && d.index === 0 ? [d.text] : []));
    expect(reasoningDeltas).toEqual(thinking);
    expect((await w.client().chats.get.query({ chatId: chat.id })).messages).toEqual(state.messages);
    expect(await interceptionsOf(w.t, chat.id)).toHaveLength(1);
  });
});
