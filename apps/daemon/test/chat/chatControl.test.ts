import { messageText } from '@warren/core';
import { describe, expect, it } from 'vitest';
import { INACTIVE_KEY_MESSAGE } from '../../src/chat/TurnRunner';
import { dialects, rememberSecret } from '../harness';
import { answerSoFar, ChatWatcher, interceptionsOf, useChatWorld } from './chatWorld';

const model = 'anthropic/claude-sonnet-4-5';
const slow = (text: string) => ({ text, chunkChars: 2, chunkDelayMs: 20 });

describe.each(dialects)('queueing, interrupting and editing turns on %s', (dialect) => {
  const w = useChatWorld(dialect);

  it('messages sent while a turn runs wait in the queue and are answered in order', async () => {
    w.fake.script([slow('First answer, slowly.'), { text: 'Second answer.' }, { text: 'Third answer.' }]);
    const chat = await w.client().chats.create.mutate({ model, title: 'Queue' });
    const watcher = new ChatWatcher(w.client(), chat.id);
    await w.client().chats.send.mutate({ chatId: chat.id, text: 'one' });
    await watcher.until((s) => s.messages.some((m) => m.role === 'assistant'));
    const second = await w.client().chats.send.mutate({ chatId: chat.id, text: 'two' });
    const third = await w.client().chats.send.mutate({ chatId: chat.id, text: 'three' });
    expect([second.status, third.status, second.seq]).toEqual(['queued', 'queued', null]);
    const state = await watcher.settled();
    watcher.close();
    expect(state.messages.map((m) => `${m.role}:${messageText(m)}`)).toEqual([
      'user:one',
      'assistant:First answer, slowly.',
      'user:two',
      'assistant:Second answer.',
      'user:three',
      'assistant:Third answer.',
    ]);
    expect(state.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    // The model saw the earlier turns when answering the later ones.
    expect(JSON.stringify(w.fake.lastRequest().body)).toContain('Second answer.');
  });

  it('interrupt stops the turn and the upstream call; what streamed so far stays, marked interrupted', async () => {
    w.fake.script([
      { text: 'This answer is long and will be cut off before it ends.', chunkChars: 2, chunkDelayMs: 40 },
    ]);
    const chat = await w.client().chats.create.mutate({ model, title: 'Interrupt' });
    const watcher = new ChatWatcher(w.client(), chat.id);
    await w.client().chats.send.mutate({ chatId: chat.id, text: 'Go on.' });
    await watcher.until((s) => answerSoFar(s).length >= 6);
    expect(await w.client().chats.interrupt.mutate({ chatId: chat.id })).toEqual({ interrupted: true });
    const state = await watcher.settled();
    watcher.close();
    const assistant = state.messages.at(-1);
    expect(assistant?.status).toBe('interrupted');
    expect(state.messages[0]?.status).toBe('interrupted');
    const partial = messageText(assistant ?? { parts: [] });
    expect(partial.length).toBeGreaterThanOrEqual(6);
    expect('This answer is long and will be cut off before it ends.'.startsWith(partial)).toBe(true);
    await expect.poll(() => w.fake.lastRequest().abortedByClient).toBe(true);
    expect(await w.client().chats.get.query({ chatId: chat.id })).toMatchObject({ messages: state.messages });
    expect(await w.client().chats.interrupt.mutate({ chatId: chat.id })).toEqual({ interrupted: false });
  });

  it('editing a message replaces it and everything after it, and a new turn answers the new text', async () => {
    w.fake.script([{ text: 'Answer to the typo.' }, { text: 'Answer to the fix.' }]);
    const chat = await w.client().chats.create.mutate({ model, title: 'Edit' });
    const watcher = new ChatWatcher(w.client(), chat.id);
    const typo = await w.client().chats.send.mutate({ chatId: chat.id, text: 'Waht is Rust?' });
    await watcher.settled();
    await w.client().chats.edit.mutate({ chatId: chat.id, messageId: typo.id, text: 'What is Rust?' });
    const state = await watcher.until(
      (s) =>
        s.messages.length === 2 &&
        s.messages.every((m) => m.status === 'done') &&
        !s.messages.some((m) => m.id === typo.id),
    );
    watcher.close();
    expect(state.messages.map((m) => messageText(m))).toEqual(['What is Rust?', 'Answer to the fix.']);
    expect(JSON.stringify(w.fake.lastRequest().body)).not.toContain('typo');
  });

  it('a queued message whose API token was revoked before its turn fails closed: no model call', async () => {
    w.fake.script([
      { text: 'A long first answer that the queued message waits behind.', chunkChars: 2, chunkDelayMs: 40 },
      { text: 'never sent' },
    ]);
    const token = await w.client().tokens.create.mutate({ name: `chat-revoke-${dialect}` });
    rememberSecret(token.token);
    const viaToken = w.t.client(token.token);
    const chat = await viaToken.chats.create.mutate({ model, title: 'Revoked' });
    const watcher = new ChatWatcher(w.client(), chat.id);
    await viaToken.chats.send.mutate({ chatId: chat.id, text: 'first' });
    await watcher.until((s) => s.messages.some((m) => m.role === 'assistant'));
    const queued = await viaToken.chats.send.mutate({ chatId: chat.id, text: 'second' });
    expect(queued.apiKeyId).toBe(token.id);
    await w.client().tokens.revoke.mutate({ id: token.id });
    const state = await watcher.settled();
    watcher.close();
    const last = state.messages.at(-1);
    expect(last?.status).toBe('error');
    expect(last?.parts).toEqual([{ type: 'error', message: INACTIVE_KEY_MESSAGE }]);
    expect(state.chat.status).toBe('error');
    const rows = await interceptionsOf(w.t, chat.id);
    expect(rows.map((r) => r.api_key_id)).toEqual([token.id]);
    expect(w.fake.pendingReplies()).toBe(1);
  });

  it('a web user’s turns are attributed to their sign-in session; signing out fails their queued turn closed', async () => {
    w.fake.script([
      { text: 'A long first answer that the queued message waits behind.', chunkChars: 2, chunkDelayMs: 40 },
      { text: 'never sent' },
    ]);
    const login = await fetch(`${w.t.url}/api/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'owner', password: w.owner.password, sessionIn: 'cookie' }),
    });
    const cookie = rememberSecret((login.headers.get('set-cookie') ?? '').split(';')[0] ?? '');
    expect(cookie).toMatch(/^warren_session=/);
    // The web's way in: the session cookie, no bearer token.
    const web = (path: string, input: unknown) =>
      fetch(`${w.t.url}/api/trpc/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie },
        body: JSON.stringify(input),
      })
        .then((r) => r.json() as Promise<{ result: { data: { id: string; apiKeyId: string | null } } }>)
        .then((body) => body.result.data);
    const chat = await web('chats.create', { model, title: 'From the web' });
    const watcher = new ChatWatcher(w.client(), chat.id);
    const first = await web('chats.send', { chatId: chat.id, text: 'first' });
    await watcher.until((s) => s.messages.some((m) => m.role === 'assistant'));
    const queued = await web('chats.send', { chatId: chat.id, text: 'second' });
    const session = await w.t.daemon.db.kysely
      .selectFrom('api_keys')
      .select(['id', 'kind'])
      .where('id', '=', first.apiKeyId)
      .executeTakeFirstOrThrow();
    expect([chat.apiKeyId, queued.apiKeyId, session.kind]).toEqual([
      first.apiKeyId,
      first.apiKeyId,
      'session',
    ]);
    await fetch(`${w.t.url}/api/trpc/auth.logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: '{}',
    });
    const state = await watcher.settled();
    watcher.close();
    expect(state.messages.map((m) => m.status)).toEqual(['done', 'done', 'error', 'error']);
    expect(state.messages.at(-1)?.parts).toEqual([{ type: 'error', message: INACTIVE_KEY_MESSAGE }]);
    expect((await interceptionsOf(w.t, chat.id)).map((r) => r.api_key_id)).toEqual([first.apiKeyId]);
  });

  it('only the owner (and owners) may read or act on a chat; others are told it does not exist', async () => {
    const chat = await w.client().chats.create.mutate({ model, title: 'Private' });
    await w.client().users.create.mutate({
      username: `stranger-${dialect}`,
      email: `stranger-${dialect}@example.com`,
      password: rememberSecret(`stranger-pw-${chat.id}`),
    });
    const { token } = await w.t.client().auth.login.mutate({
      login: `stranger-${dialect}`,
      password: `stranger-pw-${chat.id}`,
      sessionIn: 'body',
    });
    const stranger = w.t.client(rememberSecret(token ?? ''));
    await expect(stranger.chats.get.query({ chatId: chat.id })).rejects.toThrow(
      /No such chat, or it is not yours/,
    );
    await expect(stranger.chats.send.mutate({ chatId: chat.id, text: 'hi' })).rejects.toThrow(/not yours/);
    expect(await stranger.chats.list.query()).toEqual([]);
  });

  it('deleting a chat stops its turn and removes it', async () => {
    w.fake.script([slow('An answer that will not finish because the chat goes away.')]);
    const chat = await w.client().chats.create.mutate({ model, title: 'Doomed', message: 'hello' });
    const watcher = new ChatWatcher(w.client(), chat.id);
    await watcher.until((s) => answerSoFar(s).length > 2);
    await w.client().chats.delete.mutate({ chatId: chat.id });
    // Whoever watched it sees its stream end.
    await expect.poll(() => watcher.ended).toBe(true);
    watcher.close();
    await expect(w.client().chats.get.query({ chatId: chat.id })).rejects.toThrow(/No chat has the id/);
    const left = await w.t.daemon.db.kysely
      .selectFrom('chat_messages')
      .select('id')
      .where('chat_id', '=', chat.id)
      .execute();
    expect(left).toEqual([]);
  });
});
