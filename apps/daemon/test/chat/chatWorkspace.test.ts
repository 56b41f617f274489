import fs from 'node:fs';
import path from 'node:path';
import { type ChatPart, messageText } from '@warren/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_DENIED_MESSAGE, WORKSPACE_GONE_MESSAGE } from '../../src/chat/turnAccess';
import { dialects, rememberSecret } from '../harness';
import { settle } from '../workspaceHelpers';
import { ChatWatcher, interceptionsOf, useChatWorld } from './chatWorld';

const model = 'openai/gpt-4.1';
const results = (parts: ChatPart[] = []) => parts.filter((p) => p.type === 'tool-result');

/** The chat's tools against a real local workspace: the agent process runs them on real files. */
describe.each(dialects)('chat tools in a real workspace on %s', (dialect) => {
  const w = useChatWorld(dialect);
  let workspaceId: string;

  beforeAll(async () => {
    await w
      .client()
      .workspaces.create.mutate({ name: 'agentic', template: 'local', parameters: { file_server: false } });
    workspaceId = (await settle(w.client(), 'agentic', 'running', 60_000)).id;
  }, 90_000);

  it('the agent writes a file, edits it, reads it and runs a command there, over several steps', async () => {
    w.fake.script([
      {
        toolCalls: [
          { name: 'write_file', arguments: { path: 'notes/greeting.txt', content: 'Hello, world\n' } },
        ],
      },
      {
        toolCalls: [
          {
            name: 'edit_file',
            arguments: { path: 'notes/greeting.txt', oldText: 'world', newText: 'Warren' },
          },
        ],
      },
      {
        toolCalls: [
          { name: 'run_command', arguments: { command: 'cat notes/greeting.txt && echo "sum=$((6*7))"' } },
        ],
      },
      { toolCalls: [{ name: 'grep', arguments: { pattern: 'Warren', glob: '*.txt' } }] },
      { text: 'Done: the greeting now names Warren.' },
    ]);
    const chat = await w.client().chats.create.mutate({ model, title: 'Tools', workspace: 'agentic' });
    expect(chat.workspace).toBe('agentic');
    const watcher = new ChatWatcher(w.client(), chat.id);
    await w.client().chats.send.mutate({ chatId: chat.id, text: 'Greet Warren in notes/greeting.txt.' });
    const state = await watcher.settled(30_000);
    watcher.close();

    const answer = state.messages.at(-1);
    expect(answer?.status).toBe('done');
    const [wrote, edited, ran, found] = results(answer?.parts);
    expect(wrote).toMatchObject({
      isError: false,
      result: expect.stringMatching(/^Created \/.*notes\/greeting\.txt/),
    });
    expect(edited).toMatchObject({ isError: false, result: expect.stringContaining('1 replacement') });
    expect(ran).toMatchObject({ isError: false, result: expect.stringContaining('exit code 0') });
    expect(ran?.type === 'tool-result' && ran.result).toContain('Hello, Warren');
    expect(ran?.type === 'tool-result' && ran.result).toContain('sum=42');
    expect(found?.type === 'tool-result' && found.result).toContain('greeting.txt:1: Hello, Warren');
    // The file really changed in the workspace.
    const written = /^Created (\S+)/.exec(wrote?.type === 'tool-result' ? wrote.result : '')?.[1] ?? '';
    expect(written.includes(workspaceId)).toBe(true);
    expect(fs.readFileSync(path.resolve(written), 'utf8')).toBe('Hello, Warren\n');
    expect(messageText(answer ?? { parts: [] })).toBe('Done: the greeting now names Warren.');
    expect(await interceptionsOf(w.t, chat.id)).toHaveLength(5);
  });

  it('a failing command and a bad edit come back to the model as results it can read', async () => {
    w.fake.script([
      { toolCalls: [{ name: 'run_command', arguments: { command: 'echo oops >&2; exit 3' } }] },
      { toolCalls: [{ name: 'edit_file', arguments: { path: 'missing.txt', oldText: 'a', newText: 'b' } }] },
      { text: 'Both failed.' },
    ]);
    const chat = await w.client().chats.create.mutate({ model, title: 'Failures', workspace: 'agentic' });
    const watcher = new ChatWatcher(w.client(), chat.id);
    await w.client().chats.send.mutate({ chatId: chat.id, text: 'Try.' });
    const state = await watcher.settled(30_000);
    watcher.close();
    const [command, edit] = results(state.messages.at(-1)?.parts);
    expect(command).toMatchObject({ isError: false, result: expect.stringContaining('exit code 3') });
    expect(command?.type === 'tool-result' && command.result).toContain('oops');
    expect(edit).toMatchObject({ isError: true });
    expect(state.messages.at(-1)?.status).toBe('done');
  });

  it('when the agent disconnects mid-tool-call the tool returns an error to the model and the turn ends cleanly', async () => {
    w.fake.script([
      { toolCalls: [{ name: 'run_command', arguments: { command: 'sleep 30' } }] },
      { text: 'The workspace went away while the command ran.' },
    ]);
    const chat = await w.client().chats.create.mutate({ model, title: 'Disconnect', workspace: 'agentic' });
    const watcher = new ChatWatcher(w.client(), chat.id);
    await w.client().chats.send.mutate({ chatId: chat.id, text: 'Sleep.' });
    await watcher.until((s) =>
      (s.messages.at(-1)?.parts ?? []).some((p) => p.type === 'tool-call' && p.state === 'called'),
    );
    await new Promise((r) => setTimeout(r, 300));
    // The agent process (and its command) die at once, as when a workspace's machine goes down.
    const pidFile = path.join(w.t.dataDir, 'workspaces', workspaceId, 'agent.pid');
    process.kill(-Number(fs.readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
    const state = await watcher.settled(15_000);
    watcher.close();
    const answer = state.messages.at(-1);
    expect(answer?.status).toBe('done');
    expect(results(answer?.parts)).toEqual([
      expect.objectContaining({
        toolName: 'run_command',
        isError: true,
        result: expect.stringContaining('disconnected'),
      }),
    ]);
    expect(messageText(answer ?? { parts: [] })).toBe('The workspace went away while the command ran.');
  }, 30_000);

  it('a turn in a workspace deleted since the chat began ends with an error, no model call and no tool', async () => {
    w.fake.script([{ toolCalls: [{ name: 'run_command', arguments: { command: 'true' } }] }]);
    const chat = await w.client().chats.create.mutate({ model, title: 'Gone', workspace: 'agentic' });
    const db = w.t.daemon.db.kysely;
    await db
      .updateTable('workspaces')
      .set({ deleted_at: Date.now() })
      .where('id', '=', workspaceId)
      .execute();
    try {
      const watcher = new ChatWatcher(w.client(), chat.id);
      await w.client().chats.send.mutate({ chatId: chat.id, text: 'Run it.' });
      const state = await watcher.settled();
      watcher.close();
      expect(state.messages.at(-1)?.status).toBe('error');
      expect(state.messages.at(-1)?.parts).toEqual([{ type: 'error', message: WORKSPACE_GONE_MESSAGE }]);
      expect(w.fake.pendingReplies()).toBe(1);
    } finally {
      await db.updateTable('workspaces').set({ deleted_at: null }).where('id', '=', workspaceId).execute();
    }
  });

  it('a turn whose chat owner may no longer change the workspace ends with an error before any tool runs', async () => {
    w.fake.script([{ toolCalls: [{ name: 'run_command', arguments: { command: 'true' } }] }]);
    const password = rememberSecret(`member-pw-${dialect}-${workspaceId}`);
    await w.client().users.create.mutate({
      username: `member-${dialect}`,
      email: `member-${dialect}@example.com`,
      password,
    });
    const { token } = await w.t
      .client()
      .auth.login.mutate({ login: `member-${dialect}`, password, sessionIn: 'body' });
    const member = w.t.client(rememberSecret(token ?? ''));
    const chat = await member.chats.create.mutate({ model, title: 'Not mine any more' });
    // As if the member's workspace had changed hands after the chat began: it is the owner's now.
    await w.t.daemon.db.kysely
      .updateTable('chats')
      .set({ workspace_id: workspaceId })
      .where('id', '=', chat.id)
      .execute();
    const watcher = new ChatWatcher(member, chat.id);
    await member.chats.send.mutate({ chatId: chat.id, text: 'Run it.' });
    const state = await watcher.settled();
    watcher.close();
    expect(state.messages.at(-1)?.parts).toEqual([{ type: 'error', message: WORKSPACE_DENIED_MESSAGE }]);
    expect(w.fake.pendingReplies()).toBe(1);
  });
});
