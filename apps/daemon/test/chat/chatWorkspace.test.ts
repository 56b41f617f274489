import fs from 'node:fs';
import path from 'node:path';
import { type ChatPart, messageText } from '@warren/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_DENIED_MESSAGE, WORKSPACE_GONE_MESSAGE } from '../../src/chat/turnAccess';
import { MAX_TOOL_OUTPUT_CHARS } from '../../src/chat/workspaceTools';
import { newProviderKey, storeUserKey } from '../gateway/gatewayFixtures';
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
      { toolCalls: [{ name: 'read_file', arguments: { path: 'notes/greeting.txt' } }] },
      {
        toolCalls: [
          { name: 'run_command', arguments: { command: 'cat notes/greeting.txt && echo "sum=$((6*7))"' } },
        ],
      },
      { toolCalls: [{ name: 'list_files', arguments: { pattern: 'notes/*.txt' } }] },
      { toolCalls: [{ name: 'grep', arguments: { pattern: 'Warren', glob: '*.txt' } }] },
      { text: 'Done: the greeting now names Warren.' },
    ]);
    const chat = await w.client().chats.create.mutate({ model, title: 'Tools', workspace: 'agentic' });
    expect(chat.workspace).toBe('agentic');
    const watcher = new ChatWatcher(w.client(), chat.id);
    const sent = await w
      .client()
      .chats.send.mutate({ chatId: chat.id, text: 'Greet Warren in notes/greeting.txt.' });
    const state = await watcher.settled(30_000);
    watcher.close();

    const answer = state.messages.at(-1);
    expect(answer?.status).toBe('done');
    const [wrote, edited, read, ran, listed, found] = results(answer?.parts);
    expect(wrote).toMatchObject({
      isError: false,
      result: expect.stringMatching(/^Created \/.*notes\/greeting\.txt/),
    });
    expect(edited).toMatchObject({ isError: false, result: expect.stringContaining('1 replacement') });
    expect(read).toMatchObject({ isError: false, result: expect.stringContaining('Hello, Warren') });
    expect(listed).toMatchObject({ isError: false, result: expect.stringContaining('notes/greeting.txt') });
    expect(ran).toMatchObject({ isError: false, result: expect.stringContaining('exit code 0') });
    expect(ran?.type === 'tool-result' && ran.result).toContain('Hello, Warren');
    expect(ran?.type === 'tool-result' && ran.result).toContain('sum=42');
    expect(found?.type === 'tool-result' && found.result).toContain('greeting.txt:1: Hello, Warren');
    // The file really changed in the workspace.
    const written = /^Created (\S+)/.exec(wrote?.type === 'tool-result' ? wrote.result : '')?.[1] ?? '';
    expect(written.includes(workspaceId)).toBe(true);
    expect(fs.readFileSync(path.resolve(written), 'utf8')).toBe('Hello, Warren\n');
    expect(messageText(answer ?? { parts: [] })).toBe('Done: the greeting now names Warren.');
    // One gateway record per model call (seven steps), each with the chat and the key that sent the message.
    const rows = await interceptionsOf(w.t, chat.id);
    expect(rows.map((r) => [r.chat_id, r.api_key_id, r.status])).toEqual(
      Array.from({ length: 7 }, () => [chat.id, sent.apiKeyId, 200]),
    );
    expect(sent.apiKeyId).toBeTruthy();
  });

  it('a command that outlives its timeout is killed, and long output reaches the model cut in the middle', async () => {
    w.fake.script([
      { toolCalls: [{ name: 'run_command', arguments: { command: 'sleep 30', timeoutSeconds: 1 } }] },
      { toolCalls: [{ name: 'run_command', arguments: { command: 'seq 1 30000' } }] },
      { text: 'One timed out, one talked a lot.' },
    ]);
    const chat = await w.client().chats.create.mutate({ model, title: 'Limits', workspace: 'agentic' });
    const watcher = new ChatWatcher(w.client(), chat.id);
    const started = Date.now();
    await w.client().chats.send.mutate({ chatId: chat.id, text: 'Try both.' });
    const state = await watcher.settled(30_000);
    watcher.close();
    expect(Date.now() - started).toBeLessThan(15_000);
    const [slow, loud] = results(state.messages.at(-1)?.parts);
    expect(slow).toMatchObject({ isError: false, result: expect.stringContaining('timed out after 1 s') });
    const text = loud?.type === 'tool-result' ? loud.result : '';
    expect(text.startsWith('exit code 0\nstdout:\n1\n2\n3\n')).toBe(true);
    expect(text).toMatch(/\[\.\.\. \d+ characters cut \.\.\.\]/);
    expect(text.trimEnd().endsWith('29999\n30000')).toBe(true);
    expect(text.length).toBeLessThanOrEqual(MAX_TOOL_OUTPUT_CHARS + 100);
    // The model got the cut output, not the whole of it.
    expect(JSON.stringify(w.fake.lastRequest().body)).not.toContain('\\n15000\\n');
  });

  it('with BYOK, a tool output that prints the user’s own key reaches the model and the chat redacted', async () => {
    const anthropic = 'anthropic/claude-sonnet-4-5';
    const userKey = newProviderKey('sk-ant-byok-tool');
    w.fake.acceptedKeys.add(userKey);
    await storeUserKey(w.t, w.owner.userId, w.providers.anthropic, userKey);
    const half = Math.floor(userKey.length / 2);
    // The command holds the key in two halves, so only its output carries it whole.
    const command = `printf '%s%s\\n' '${userKey.slice(0, half)}' '${userKey.slice(half)}' > key.txt; cat key.txt`;
    w.fake.script([
      { toolCalls: [{ name: 'run_command', arguments: { command } }] },
      { toolCalls: [{ name: 'read_file', arguments: { path: 'key.txt' } }] },
      { text: 'I printed something.' },
    ]);
    const chat = await w
      .client()
      .chats.create.mutate({ model: anthropic, title: 'BYOK', workspace: 'agentic' });
    const watcher = new ChatWatcher(w.client(), chat.id);
    await w.client().chats.send.mutate({ chatId: chat.id, text: 'Print it.' });
    const state = await watcher.settled(30_000);
    watcher.close();
    expect(w.fake.lastRequest().headers['x-api-key']).toBe(userKey);
    const [ran, read] = results(state.messages.at(-1)?.parts);
    expect(ran).toMatchObject({ isError: false, result: expect.stringContaining('stdout:\n[redacted]') });
    expect(read).toMatchObject({ isError: false, result: expect.stringContaining('[redacted]') });
    // Not in what was stored, streamed, or sent back to the model in the next step.
    const stored = JSON.stringify(await w.client().chats.get.query({ chatId: chat.id }));
    expect(stored).not.toContain(userKey);
    expect(JSON.stringify(watcher.events)).not.toContain(userKey);
    expect(JSON.stringify(w.fake.lastRequest().body)).not.toContain(userKey);
    expect((await interceptionsOf(w.t, chat.id)).map((r) => r.credential)).toEqual(['byok', 'byok', 'byok']);
    await w.t.daemon.services.gateway.settle();
    expect(fs.readFileSync(w.t.logFile, 'utf8')).not.toContain(userKey);
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
