import fs from 'node:fs';
import { messageText } from '@warren/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newProviderKey, refresh, storeUserKey } from '../gateway/gatewayFixtures';
import { dialects } from '../harness';
import { ChatWatcher, type ChatWorld, interceptionsOf, startChatWorld } from './chatWorld';

async function runTurn(w: ChatWorld, model: string, text = 'Hello?') {
  const chat = await w.client().chats.create.mutate({ model, title: 'Credentials' });
  const watcher = new ChatWatcher(w.client(), chat.id);
  await w.client().chats.send.mutate({ chatId: chat.id, text });
  const state = await watcher.settled();
  watcher.close();
  return { chat, state, assistant: state.messages.at(-1) };
}

async function setByok(w: ChatWorld, byok: 'allowed' | 'required'): Promise<void> {
  await w.t.daemon.db.kysely
    .updateTable('ai_providers')
    .set({ byok })
    .where('id', '=', w.providers.openai)
    .execute();
  await refresh(w.t);
}

describe.each(dialects)('the chat loop’s credentials on %s', (dialect) => {
  let w: ChatWorld;
  let userKey: string;
  beforeAll(async () => {
    w = await startChatWorld(dialect);
    userKey = newProviderKey('sk-ant-user-own');
    w.fake.acceptedKeys.add(userKey);
    await storeUserKey(w.t, w.owner.userId, w.providers.anthropic, userKey);
  });
  afterAll(() => w?.close());

  it('with BYOK the user’s key reaches the provider in its own header, delegated, and no Warren header leaves', async () => {
    w.fake.script([{ text: 'Answered with your key.' }]);
    const { chat, assistant } = await runTurn(w, 'anthropic/claude-sonnet-4-5');
    expect(messageText(assistant ?? { parts: [] })).toBe('Answered with your key.');
    const headers = w.fake.lastRequest().headers;
    expect(headers['x-api-key']).toBe(userKey);
    expect(Object.keys(headers).filter((name) => name.startsWith('x-warren-'))).toEqual([]);
    const [row] = await interceptionsOf(w.t, chat.id);
    expect(row).toMatchObject({ credential: 'byok', chat_id: chat.id, api_key_id: assistant?.apiKeyId });
  });

  it('a provider error that echoes the user’s key reaches the chat with the key redacted', async () => {
    w.fake.script([{ status: 400, message: `This key is not enabled for the model: ${userKey}` }]);
    const { assistant } = await runTurn(w, 'anthropic/claude-sonnet-4-5');
    expect(assistant?.status).toBe('error');
    const stored = JSON.stringify(await w.client().chats.get.query({ chatId: assistant?.chatId ?? '' }));
    expect(stored).toContain('[redacted]');
    expect(stored).not.toContain(userKey);
  });

  it('without BYOK the central key is used and never travels as a header from the loop', async () => {
    w.fake.script([{ text: 'Central.' }]);
    const { chat } = await runTurn(w, 'openai/gpt-4.1');
    expect(w.fake.lastRequest().headers.authorization).toBe(`Bearer ${w.centralKeys.openai}`);
    const [row] = await interceptionsOf(w.t, chat.id);
    expect(row?.credential).toBe('central');
  });

  it('a provider that requires the user’s own key fails the turn closed when there is none', async () => {
    await setByok(w, 'required');
    try {
      const { chat, assistant } = await runTurn(w, 'openai/gpt-4.1');
      expect(assistant?.status).toBe('error');
      expect(assistant?.parts).toEqual([
        { type: 'error', message: expect.stringContaining('needs your own API key') },
      ]);
      expect(await interceptionsOf(w.t, chat.id)).toEqual([]);
    } finally {
      await setByok(w, 'allowed');
    }
  });

  it('no provider key appears in any log line the daemon wrote', async () => {
    await w.t.daemon.services.gateway.settle();
    const log = fs.readFileSync(w.t.logFile, 'utf8');
    for (const key of [userKey, w.centralKeys.openai, w.centralKeys.anthropic])
      expect(log).not.toContain(key);
  });
});

describe.each(dialects)('the hidden direct-provider option on %s', (dialect) => {
  let w: ChatWorld;
  beforeAll(async () => {
    w = await startChatWorld(dialect, { flags: { 'chat-direct-provider': 'true' } });
  });
  afterAll(() => w?.close());

  it('sends the chat’s model calls straight to the provider, leaving no gateway record', async () => {
    w.fake.script([{ text: 'Direct.' }]);
    const { chat, assistant } = await runTurn(w, 'anthropic/claude-sonnet-4-5');
    expect(messageText(assistant ?? { parts: [] })).toBe('Direct.');
    expect(w.fake.lastRequest().headers['x-api-key']).toBe(w.centralKeys.anthropic);
    expect(await interceptionsOf(w.t, chat.id)).toEqual([]);
  });
});
