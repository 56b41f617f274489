import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_CHAT_MESSAGE_CHARS, messageText } from '@warren/core';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { MAX_SUBAGENTS_PER_TURN } from '../../src/chat/subagentTools';
import type { RecordedRequest, ScriptedReply } from '../ai/FakeModelProvider';
import { dialects } from '../harness';
import { answerSoFar, ChatWatcher, useChatWorld } from './chatWorld';

const model = 'anthropic/claude-sonnet-4-5';
const CHILD = 'anthropic/claude-haiku-4-5';
const slow = (text: string) => ({ text, chunkChars: 2, chunkDelayMs: 30 });
const seen = (request: RecordedRequest) => JSON.stringify(request.body);
const isChild = (request: RecordedRequest) =>
  (request.body as { model: string }).model === 'claude-haiku-4-5';

describe.each(dialects)('a chat’s turns, subagents and records on %s', (dialect) => {
  const w = useChatWorld(dialect);

  it('editing the running message runs the new text before the messages queued behind it', async () => {
    w.fake.script([
      slow('An answer to the wrong question that will be cut short.'),
      { text: 'Answer to the right question.' },
      { text: 'Answer to the follow-up.' },
    ]);
    const chat = await w.client().chats.create.mutate({ model, title: 'Edit while queued' });
    const watcher = new ChatWatcher(w.client(), chat.id);
    const first = await w.client().chats.send.mutate({ chatId: chat.id, text: 'The wrong question' });
    await watcher.until((s) => answerSoFar(s).length > 2);
    await w.client().chats.send.mutate({ chatId: chat.id, text: 'The follow-up' });
    await w.client().chats.edit.mutate({ chatId: chat.id, messageId: first.id, text: 'The right question' });
    const state = await watcher.until(
      (s) => s.messages.length === 4 && s.messages.every((m) => m.status === 'done'),
    );
    watcher.close();
    expect(state.messages.map((m) => messageText(m))).toEqual([
      'The right question',
      'Answer to the right question.',
      'The follow-up',
      'Answer to the follow-up.',
    ]);
    // The follow-up's turn saw the edited exchange, not the cut one.
    const followUp = seen(w.fake.lastRequest());
    expect(followUp).toContain('The right question');
    expect(followUp).not.toContain('The wrong question');
  });

  it('interrupting a turn stops the subagent it started, upstream call included', async () => {
    w.fake.setDefaultReply((request): ScriptedReply => {
      if (isChild(request))
        return {
          text: 'A subagent answer that takes a long time to arrive.',
          chunkChars: 1,
          chunkDelayMs: 60,
        };
      const started = /Subagent started: chatId ([0-9a-f-]{36})/.exec(seen(request));
      if (started) return { toolCalls: [{ name: 'wait_subagent', arguments: { chatId: started[1] } }] };
      return { toolCalls: [{ name: 'spawn_subagent', arguments: { prompt: 'Dig deep.', model: CHILD } }] };
    });
    const chat = await w.client().chats.create.mutate({ model, title: 'Interrupt with a subagent' });
    await w.client().chats.send.mutate({ chatId: chat.id, text: 'Delegate it.' });
    let childId = '';
    await expect
      .poll(async () => {
        childId = (await w.client().chats.list.query({ parentChatId: chat.id }))[0]?.id ?? '';
        if (!childId) return '';
        return answerSoFar({ ...(await w.client().chats.get.query({ chatId: childId })), seq: 0 });
      })
      .toMatch(/.{3}/);
    expect(await w.client().chats.interrupt.mutate({ chatId: chat.id })).toEqual({ interrupted: true });
    const child = await w.client().chats.get.query({ chatId: childId });
    expect(child.messages.map((m) => [m.role, m.status])).toEqual([
      ['user', 'interrupted'],
      ['assistant', 'interrupted'],
    ]);
    expect(child.chat.status).toBe('idle');
    await expect.poll(() => w.fake.requests.filter(isChild).every((r) => r.abortedByClient)).toBe(true);
  });

  it(`a turn may start at most ${MAX_SUBAGENTS_PER_TURN} subagents; the next is refused with a tool error`, async () => {
    const spawns = Array.from({ length: MAX_SUBAGENTS_PER_TURN + 1 }, (_, i) => ({
      name: 'spawn_subagent',
      arguments: { prompt: `Task ${i}.`, model: CHILD },
    }));
    w.fake.setDefaultReply((request): ScriptedReply => {
      if (isChild(request)) return { text: 'Done.' };
      return seen(request).includes('Subagent started') ? { text: 'All started.' } : { toolCalls: spawns };
    });
    const chat = await w.client().chats.create.mutate({ model, title: 'Too many subagents' });
    const watcher = new ChatWatcher(w.client(), chat.id);
    await w.client().chats.send.mutate({ chatId: chat.id, text: 'Start them all.' });
    const state = await watcher.settled(20_000);
    watcher.close();
    const results = (state.messages.at(-1)?.parts ?? []).flatMap((p) =>
      p.type === 'tool-result' ? [p] : [],
    );
    expect(results.filter((r) => !r.isError)).toHaveLength(MAX_SUBAGENTS_PER_TURN);
    expect(results.filter((r) => r.isError).map((r) => r.result)).toEqual([
      expect.stringContaining(`already started ${MAX_SUBAGENTS_PER_TURN} subagents`),
    ]);
    expect(await w.client().chats.list.query({ parentChatId: chat.id })).toHaveLength(MAX_SUBAGENTS_PER_TURN);
  });

  it('a message that fails validation leaves no chat text in the audit log', async () => {
    const chat = await w.client().chats.create.mutate({ model, title: 'Audit' });
    const text = 'my private words '.repeat(Math.ceil((MAX_CHAT_MESSAGE_CHARS + 1) / 17));
    await expect(w.client().chats.send.mutate({ chatId: chat.id, text })).rejects.toThrow(/at most/);
    const row = await w.t.daemon.db.kysely
      .selectFrom('audit_log')
      .select(['status', 'diff'])
      .where('action', '=', 'chats.send')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('error');
    expect(row.diff).not.toContain('private');
    expect(JSON.parse(row.diff)).toEqual({ chatId: chat.id, textChars: text.length });
  });

  it('the next message does not wait for the chat’s title to be written', async () => {
    w.fake.setDefaultReply(
      (request): ScriptedReply =>
        seen(request).includes('Write a title')
          ? { text: 'A slow title', delayMs: 3000 }
          : { text: 'Quick.' },
    );
    const chat = await w.client().chats.create.mutate({ model });
    const watcher = new ChatWatcher(w.client(), chat.id);
    await w.client().chats.send.mutate({ chatId: chat.id, text: 'one' });
    await w.client().chats.send.mutate({ chatId: chat.id, text: 'two' });
    const state = await watcher.until(
      (s) => s.messages.length === 4 && s.messages.every((m) => m.status === 'done'),
      2500,
    );
    expect(state.chat.title).toBeNull();
    expect((await watcher.until((s) => s.chat.title !== null, 5000)).chat.title).toBe('A slow title');
    watcher.close();
  });

  it('an edit racing a delete does not restart the deleted chat’s turn', async () => {
    w.fake.script([
      slow('An answer that the delete cuts short, long enough to race.'),
      { text: 'never sent' },
    ]);
    const chat = await w.client().chats.create.mutate({ model, title: 'Race' });
    const watcher = new ChatWatcher(w.client(), chat.id);
    const sent = await w.client().chats.send.mutate({ chatId: chat.id, text: 'Go.' });
    await watcher.until((s) => answerSoFar(s).length > 2);
    watcher.close();
    await Promise.allSettled([
      w.client().chats.edit.mutate({ chatId: chat.id, messageId: sent.id, text: 'Go again.' }),
      w.client().chats.delete.mutate({ chatId: chat.id }),
    ]);
    await sleep(300);
    expect(w.fake.pendingReplies()).toBe(1);
    await expect(w.client().chats.get.query({ chatId: chat.id })).rejects.toThrow(/No chat has the id/);
  });

  it('after a restart, a subagent whose parent turn was cut off does not resume; a chat stuck "running" is idle', async () => {
    const db = w.t.daemon.db.kysely;
    const parent = await w.client().chats.create.mutate({ model, title: 'Cut-off parent' });
    const stuck = await w.client().chats.create.mutate({ model, title: 'Stuck running' });
    const now = Date.now();
    const childId = randomUUID();
    const row = { api_key_id: parent.apiKeyId, created_at: now, updated_at: now };
    await db
      .insertInto('chat_messages')
      .values([
        {
          ...row,
          id: randomUUID(),
          chat_id: parent.id,
          seq: 1,
          role: 'user',
          parts: '[]',
          status: 'running',
        },
        {
          ...row,
          id: randomUUID(),
          chat_id: parent.id,
          seq: 2,
          role: 'assistant',
          parts: '[]',
          status: 'running',
        },
      ])
      .execute();
    await db
      .insertInto('chats')
      .values({
        ...row,
        id: childId,
        owner_id: w.owner.userId,
        workspace_id: null,
        model: CHILD,
        system_prompt: null,
        title: 'Orphan',
        parent_chat_id: parent.id,
        model_override: CHILD,
        status: 'idle',
      })
      .execute();
    const text = JSON.stringify([{ type: 'text', text: 'Dig deep.' }]);
    await db
      .insertInto('chat_messages')
      .values({
        ...row,
        id: randomUUID(),
        chat_id: childId,
        seq: null,
        role: 'user',
        parts: text,
        status: 'queued',
      })
      .execute();
    await db
      .updateTable('chats')
      .set({ status: 'running' })
      .where('id', 'in', [parent.id, stuck.id])
      .execute();

    await w.t.daemon.services.chats.start();

    const child = await w.client().chats.get.query({ chatId: childId });
    expect(child.messages.map((m) => m.status)).toEqual(['interrupted']);
    expect(child.messages[0]?.parts.at(-1)).toMatchObject({
      type: 'error',
      message: expect.stringContaining('stopped'),
    });
    expect((await w.client().chats.get.query({ chatId: stuck.id })).chat.status).toBe('idle');
    expect((await w.client().chats.get.query({ chatId: parent.id })).chat.status).toBe('idle');
    expect(w.fake.requests.filter(isChild)).toEqual([]);
  });

  it('a database write that fails as a turn starts ends the turn in error instead of leaving it stuck', async () => {
    const db = w.t.daemon.db.kysely;
    // The write that marks a message running fails, as a full disk or a lost connection would.
    if (dialect === 'sqlite')
      await sql`create trigger refuse_running before update of status on chat_messages
        when new.status = 'running' begin select raise(abort, 'disk full'); end`.execute(db);
    else {
      await sql`create or replace function refuse_running() returns trigger language plpgsql as
        $$ begin if new.status = 'running' then raise exception 'disk full'; end if; return new; end $$`.execute(
        db,
      );
      await sql`create trigger refuse_running before update on chat_messages
        for each row execute function refuse_running()`.execute(db);
    }
    try {
      const chat = await w.client().chats.create.mutate({ model, title: 'Disk full' });
      const watcher = new ChatWatcher(w.client(), chat.id);
      await w.client().chats.send.mutate({ chatId: chat.id, text: 'Hello?' });
      const state = await watcher.until((s) => s.messages[0]?.status === 'error');
      watcher.close();
      expect(state.chat.status).toBe('error');
      expect(await w.client().chats.interrupt.mutate({ chatId: chat.id })).toEqual({ interrupted: false });
    } finally {
      await sql`drop trigger refuse_running${sql.raw(dialect === 'postgres' ? ' on chat_messages' : '')}`.execute(
        db,
      );
    }
    // The next turn runs normally.
    w.fake.script([{ text: 'Back.' }]);
    const chat = await w.client().chats.create.mutate({ model, title: 'After the fault', message: 'Hi.' });
    const watcher = new ChatWatcher(w.client(), chat.id);
    expect(answerSoFar(await watcher.settled())).toBe('Back.');
    watcher.close();
  });
});
