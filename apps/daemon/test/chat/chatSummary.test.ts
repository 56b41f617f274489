import { type ChatMessage, MAX_CHAT_MESSAGE_CHARS } from '@warren/core';
import { describe, expect, it } from 'vitest';
import {
  INACTIVE_CALLER_MESSAGE,
  NO_MESSAGES_MESSAGE,
  SUMMARY_INPUT_CHARS,
  SUMMARY_MESSAGE_CHARS,
  summaryTranscript,
} from '../../src/chat/chatSummary';
import type { RecordedRequest } from '../ai/FakeModelProvider';
import { newProviderKey, storeUserKey, userIdOf } from '../gateway/gatewayFixtures';
import { dialects, rememberSecret } from '../harness';
import { addPerson } from '../signIn';
import { ChatWatcher, type ChatWorld, families, interceptionsOf, useChatWorld } from './chatWorld';

const isSummaryCall = (request: RecordedRequest) => JSON.stringify(request.body).includes('Summarize the');
const summaryCalls = (w: ChatWorld) => w.fake.requests.filter(isSummaryCall);

/** A chat (titled, so no title call) with one finished exchange. */
async function chatWithOneTurn(w: ChatWorld, model: string, client = w.client()) {
  w.fake.script([{ text: 'Done: the login form now checks the password length.' }]);
  const chat = await client.chats.create.mutate({
    model,
    title: 'Login form',
    message: 'Make the login form reject passwords shorter than 12 characters.',
  });
  const watcher = new ChatWatcher(client, chat.id);
  await watcher.settled();
  watcher.close();
  return chat;
}

describe.each(dialects)('chat summaries on %s', (dialect) => {
  const w = useChatWorld(dialect);

  describe.each(families)('in the $family wire format', ({ family, model, small }) => {
    it('summarizes the conversation with the small model as the caller, stores it and shows it to watchers', async () => {
      const chat = await chatWithOneTurn(w, model);
      const [turnCall] = await interceptionsOf(w.t, chat.id);
      // Asked with a named token: the summary's call is on that key, not the chat creator's session.
      const token = await w.client().tokens.create.mutate({ name: `summary-${dialect}-${family}` });
      const viaToken = w.t.client(rememberSecret(token.token));
      const before = await w.client().chats.get.query({ chatId: chat.id });
      expect(before.chat.summary).toBeNull();
      const watcher = new ChatWatcher(w.client(), chat.id);
      await watcher.until(() => true);
      w.fake.script([{ text: '  The user asked for a 12-character minimum; the agent added it.\n' }]);

      const summary = await viaToken.chats.summarize.mutate({ chatId: chat.id });

      const expected = 'The user asked for a 12-character minimum; the agent added it.';
      const lastSeq = Math.max(...before.messages.map((m) => m.seq ?? 0));
      expect(summary).toEqual({ text: expected, upToSeq: lastSeq, createdAt: expect.any(String) });
      const stored = await w.client().chats.get.query({ chatId: chat.id });
      expect(stored.chat.summary).toEqual(summary);
      // Not activity: the chat keeps its place in the list.
      expect(stored.chat.updatedAt).toBe(before.chat.updatedAt);
      expect((await watcher.until((s) => s.chat.summary !== null)).chat.summary).toEqual(summary);
      watcher.close();

      // The model read the conversation, and the call is one interception with the chat and the caller's key.
      const request = w.fake.lastRequest();
      expect((request.body as { model: string }).model).toBe(small.split('/')[1]);
      expect(JSON.stringify(request.body)).toContain('reject passwords shorter than 12 characters');
      expect(JSON.stringify(request.body)).toContain('the login form now checks the password length');
      const rows = await interceptionsOf(w.t, chat.id);
      expect(rows.map((r) => r.id)).toContain(turnCall?.id);
      const added = rows.filter((r) => r.id !== turnCall?.id);
      expect(added).toHaveLength(1);
      expect(added[0]).toMatchObject({
        chat_id: chat.id,
        api_key_id: token.id,
        user_id: w.owner.userId,
        model: small.split('/')[1],
        status: 200,
      });
      expect(token.id).not.toBe(turnCall?.api_key_id);
    });
  });

  it('asking again writes a new summary of the chat as it is now', async () => {
    const model = 'openai/gpt-4.1';
    const chat = await chatWithOneTurn(w, model);
    w.fake.script([{ text: 'First summary.' }]);
    const first = await w.client().chats.summarize.mutate({ chatId: chat.id });
    w.fake.script([{ text: 'The form also shows a hint now.' }]);
    const watcher = new ChatWatcher(w.client(), chat.id);
    await w.client().chats.send.mutate({ chatId: chat.id, text: 'Show a hint under the field too.' });
    await watcher.settled();
    watcher.close();
    w.fake.script([{ text: 'Second summary.' }]);
    const second = await w.client().chats.summarize.mutate({ chatId: chat.id });
    expect([first.text, second.text]).toEqual(['First summary.', 'Second summary.']);
    expect(second.upToSeq).toBe(first.upToSeq + 2);
    expect(JSON.stringify(w.fake.lastRequest().body)).toContain('Show a hint under the field too.');
    expect((await w.client().chats.get.query({ chatId: chat.id })).chat.summary).toEqual(second);
  });

  it('a long chat is cut before it is sent: the model gets its start and its latest words, within the bound', async () => {
    const model = 'anthropic/claude-sonnet-4-5';
    const paste = `START-OF-PASTE ${'0123456789'.repeat((MAX_CHAT_MESSAGE_CHARS - 100) / 10)}`;
    w.fake.setDefaultReply({ text: 'Noted.' });
    const chat = await w.client().chats.create.mutate({ model, title: 'Long', message: paste });
    const watcher = new ChatWatcher(w.client(), chat.id);
    await watcher.settled();
    for (let i = 0; i < 12; i++) {
      await w.client().chats.send.mutate({ chatId: chat.id, text: `Step ${i}: ${'details '.repeat(300)}` });
      await watcher.settled();
    }
    await w.client().chats.send.mutate({ chatId: chat.id, text: 'THE-LATEST-ASK: ship it.' });
    await watcher.settled();
    watcher.close();
    w.fake.script([{ text: 'A long chat, summarized.' }]);

    await w.client().chats.summarize.mutate({ chatId: chat.id });

    const request = summaryCalls(w).at(-1);
    const prompt = JSON.stringify((request?.body as { messages?: unknown } | undefined)?.messages);
    expect(prompt.length).toBeLessThan(SUMMARY_INPUT_CHARS + 1_000);
    expect(prompt).toContain('START-OF-PASTE');
    expect(prompt).toContain('THE-LATEST-ASK: ship it.');
    expect(prompt).toMatch(/\[\d+ earlier messages left out\]/);
  });

  it('a key in the chat is not sent with the summary, and one the model writes is not stored', async () => {
    const person = await addPerson(w.t, w.owner.token, `summary-byok-${dialect}`);
    const client = w.t.client(person.token);
    const userKey = newProviderKey('sk-ant-summary-own');
    w.fake.acceptedKeys.add(userKey);
    await storeUserKey(w.t, await userIdOf(w.t, person.username), w.providers.anthropic, userKey);
    w.fake.script([{ text: 'Stored it.' }]);
    const chat = await client.chats.create.mutate({
      model: 'anthropic/claude-sonnet-4-5',
      title: 'Pasted a key',
      message: `Put my key ${userKey} in the .env file.`,
    });
    try {
      const watcher = new ChatWatcher(client, chat.id);
      await watcher.settled();
      watcher.close();
      w.fake.script([{ text: `The user stored the key ${userKey}.` }]);

      const summary = await client.chats.summarize.mutate({ chatId: chat.id });

      const request = w.fake.lastRequest();
      expect(isSummaryCall(request)).toBe(true);
      expect(request.headers['x-api-key']).toBe(userKey);
      expect(request.rawBody).not.toContain(userKey);
      expect(request.rawBody).toContain('[redacted]');
      expect(summary.text).toBe('The user stored the key [redacted].');
      const stored = await w.t.daemon.db.kysely
        .selectFrom('chats')
        .select('summary')
        .where('id', '=', chat.id)
        .executeTakeFirstOrThrow();
      expect(stored.summary).toBe('The user stored the key [redacted].');
    } finally {
      // The user's own message keeps what they pasted; the suite's check for keys at rest would find it.
      await client.chats.delete.mutate({ chatId: chat.id });
    }
  });

  it('someone else cannot summarize a chat that is not theirs, and no model is called', async () => {
    const chat = await chatWithOneTurn(w, 'openai/gpt-4.1');
    const stranger = await addPerson(w.t, w.owner.token, `summary-stranger-${dialect}`);
    const calls = w.fake.requestCount;
    await expect(w.t.client(stranger.token).chats.summarize.mutate({ chatId: chat.id })).rejects.toThrow(
      /No such chat, or it is not yours/,
    );
    expect(w.fake.requestCount).toBe(calls);
    expect((await w.client().chats.get.query({ chatId: chat.id })).chat.summary).toBeNull();
  });

  it('a chat with no messages yet says there is nothing to summarize', async () => {
    const chat = await w.client().chats.create.mutate({ model: 'openai/gpt-4.1', title: 'Empty' });
    const calls = w.fake.requestCount;
    await expect(w.client().chats.summarize.mutate({ chatId: chat.id })).rejects.toThrow(NO_MESSAGES_MESSAGE);
    expect(w.fake.requestCount).toBe(calls);
    expect(await interceptionsOf(w.t, chat.id)).toEqual([]);
  });

  it('a caller whose key is no longer active gets no model call (fails closed)', async () => {
    const chat = await chatWithOneTurn(w, 'openai/gpt-4.1');
    const token = await w.client().tokens.create.mutate({ name: `summary-revoked-${dialect}` });
    rememberSecret(token.token);
    const { roles } = await w.client().auth.whoami.query();
    await w.client().tokens.revoke.mutate({ id: token.id });
    const calls = w.fake.requestCount;
    // A request that passed sign-in just before the key was revoked reaches the service like this.
    const actor = { userId: w.owner.userId, username: 'owner', roles, apiKeyId: token.id };
    await expect(w.t.daemon.services.chats.summarize(actor, chat.id)).rejects.toThrow(
      INACTIVE_CALLER_MESSAGE,
    );
    expect(w.fake.requestCount).toBe(calls);
    expect((await interceptionsOf(w.t, chat.id)).map((r) => r.api_key_id)).not.toContain(token.id);
  });
});

describe('the transcript a summary is written from', () => {
  const message = (seq: number, text: string, role: 'user' | 'assistant' = 'user'): ChatMessage => ({
    id: `m${seq}`,
    chatId: 'c',
    role,
    seq,
    parts: [{ type: 'text', text }],
    status: 'done',
    apiKeyId: 'k',
    createdAt: '2030-01-01T00:00:00.000Z',
    updatedAt: '2030-01-01T00:00:00.000Z',
  });

  it('keeps a short chat whole, with who said what and which tools were used', () => {
    const agent = message(2, 'Reading it.', 'assistant');
    agent.parts.push(
      { type: 'reasoning', text: 'private musing' },
      {
        type: 'tool-call',
        toolCallId: 't1',
        toolName: 'read_file',
        argsText: '{"path":"README.md"}',
        state: 'called',
      },
      { type: 'tool-result', toolCallId: 't1', toolName: 'read_file', result: 'FILE BODY', isError: false },
      { type: 'error', message: 'a Warren note' },
    );
    expect(summaryTranscript([message(1, 'Read the README.'), agent])).toBe(
      'User: Read the README.\n\nAgent: Reading it.\n[used the tool read_file {"path":"README.md"}]',
    );
  });

  it('cuts a long chat in the middle and each long message at its end, within the budget', () => {
    const messages = Array.from({ length: 40 }, (_, i) =>
      message(i + 1, `message ${i + 1} ${'x'.repeat(i === 0 ? 50_000 : 900)}`, i % 2 ? 'assistant' : 'user'),
    );
    const text = summaryTranscript(messages, 10_000);
    expect(text.length).toBeLessThanOrEqual(10_000);
    const kept = [...text.matchAll(/message (\d+) /g)].map((m) => Number(m[1]));
    // The first (clipped to one message's share) and an unbroken run of the latest.
    expect(kept[0]).toBe(1);
    expect(kept.at(-1)).toBe(40);
    const tail = kept.slice(1);
    expect(tail).toEqual(Array.from({ length: tail.length }, (_, i) => 41 - tail.length + i));
    expect(text).toContain(`[${40 - kept.length} earlier messages left out]`);
    expect(text.split('\n\n')[0]?.length).toBe(SUMMARY_MESSAGE_CHARS);
  });
});
