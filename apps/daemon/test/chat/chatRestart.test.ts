import fs from 'node:fs';
import { messageText } from '@warren/core';
import { afterAll, describe, expect, it } from 'vitest';
import { type FakeModelProvider, startFakeModelProvider } from '../ai/FakeModelProvider';
import { newProviderKey } from '../gateway/gatewayFixtures';
import { apiClient, createThrowawayDatabase, dialects, rememberSecret } from '../harness';
import { exited, killServerProcesses, startServerProcess } from '../serverProcess';
import { answerSoFar, ChatWatcher } from './chatWorld';

const LONG_ANSWER = 'A long answer that streams slowly, so the server can be killed halfway through it.';

/**
 * The daemon is a real `warren server` process, killed with SIGKILL in the middle of a turn
 * (no shutdown code runs), then started again on the same database.
 */
describe.each(dialects)('a daemon killed mid-turn on %s', (dialect) => {
  let fake: FakeModelProvider;
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    killServerProcesses();
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('marks the cut-off turn interrupted, keeping what was saved, and answers the message queued behind it', async () => {
    const centralKey = newProviderKey('sk-ant-restart');
    fake = await startFakeModelProvider({ apiKey: centralKey });
    cleanups.push(() => fake.close());
    const database = dialect === 'postgres' ? await createThrowawayDatabase() : undefined;
    const args = database ? ['--postgres-url', database.url] : [];
    const first = await startServerProcess(args);
    cleanups.push(async () => {
      await database?.drop();
      fs.rmSync(first.dataDir, { recursive: true, force: true });
    });

    const password = rememberSecret(`restart-owner-pw-${Date.now()}`);
    await apiClient(first.url).setup.createFirstUser.mutate({
      username: 'owner',
      email: 'o@example.com',
      password,
    });
    const login = async (url: string) => {
      const { token } = await apiClient(url).auth.login.mutate({
        login: 'owner',
        password,
        sessionIn: 'body',
      });
      return rememberSecret(token ?? '');
    };
    const token = await login(first.url);
    const owner = apiClient(first.url, token);
    await owner.ai.providers.create.mutate({
      name: 'anthropic',
      kind: 'anthropic',
      baseUrl: fake.url,
      apiKey: centralKey,
    });
    await owner.ai.models.upsert.mutate({
      provider: 'anthropic',
      name: 'claude-sonnet-4-5',
      inputPrice: 3,
      outputPrice: 15,
    });

    fake.script([{ text: LONG_ANSWER, chunkChars: 2, chunkDelayMs: 40 }]);
    const chat = await owner.chats.create.mutate({ model: 'anthropic/claude-sonnet-4-5', title: 'Restart' });
    const watcher = new ChatWatcher(owner, chat.id);
    await owner.chats.send.mutate({ chatId: chat.id, text: 'Tell me a long story.' });
    await owner.chats.send.mutate({ chatId: chat.id, text: 'And then a short one.' });
    await watcher.until((s) => answerSoFar(s).length >= 20);
    // Long enough for the streamed text to be written (at most every 250 ms).
    await new Promise((r) => setTimeout(r, 600));
    watcher.close();
    first.child.kill('SIGKILL');
    await exited(first.child);

    fake.reset();
    fake.script([{ text: 'A short one, after the restart.' }]);
    const second = await startServerProcess(args, {}, first.dataDir);
    const again = apiClient(second.url, token);
    const watcher2 = new ChatWatcher(again, chat.id);
    const state = await watcher2.until((s) => s.messages.length === 4 && s.chat.status === 'idle');
    watcher2.close();

    const [story, cut, short, answer] = state.messages;
    expect([story?.status, cut?.status]).toEqual(['interrupted', 'interrupted']);
    const saved = messageText(cut ?? { parts: [] });
    expect(saved.length).toBeGreaterThanOrEqual(20);
    expect(LONG_ANSWER.startsWith(saved)).toBe(true);
    expect(cut?.parts.at(-1)).toEqual({
      type: 'error',
      message: 'The Warren server restarted during this turn, so it was stopped here.',
    });
    expect([short?.status, messageText(short ?? { parts: [] })]).toEqual(['done', 'And then a short one.']);
    expect([answer?.status, messageText(answer ?? { parts: [] })]).toEqual([
      'done',
      'A short one, after the restart.',
    ]);
    // The resumed turn carried the conversation so far, the cut-off answer included.
    expect(JSON.stringify(fake.lastRequest().body)).toContain(saved);
    second.child.kill('SIGTERM');
    await exited(second.child);
  }, 60_000);
});
