import type { Db } from '../db/database';
import type { Logger } from '../log/logger';
import type { ChatStore } from './ChatStore';
import * as q from './chatQueries';

const RESTART_NOTE = 'The Warren server restarted during this turn, so it was stopped here.';
export const PARENT_STOPPED_NOTE =
  'The turn that started this subagent was stopped, so this subagent was stopped too.';

/**
 * After a restart: turns that were running are marked interrupted (saying why), and so are the
 * queues of subagents whose parent turn was cut off (no one waits for their answers any more);
 * a chat left "running" with no running message (a write failed mid-turn) is idle again.
 * Returns the chats whose queues should resume.
 */
export async function recoverTurns(db: Db, store: ChatStore, log: Logger, now: number): Promise<string[]> {
  const { running, queued, parents } = await q.chatsWithUnfinishedTurns(db.kysely);
  const cutOff = new Set(running);
  for (const chatId of running) await interruptStored(store, chatId, 'running', RESTART_NOTE);
  const orphans = new Set(queued.filter((id) => cutOff.has(parents.get(id) ?? '')));
  for (const chatId of orphans) await interruptStored(store, chatId, 'queued', PARENT_STOPPED_NOTE);
  await q.idleStrandedChats(db.kysely, now);
  if (running.length)
    log.warn(
      { chats: running.length, subagents: orphans.size },
      'chat turns cut short by a restart were marked interrupted',
    );
  return queued.filter((id) => !orphans.has(id));
}

async function interruptStored(
  store: ChatStore,
  chatId: string,
  status: 'running' | 'queued',
  note: string,
): Promise<void> {
  const live = await store.acquire(chatId);
  if (!live) return;
  try {
    await live.exclusive(async () => {
      await store.interruptMessages(live, status, note);
      await store.updateChat(live, { status: 'idle' });
    });
  } finally {
    store.release(live);
  }
}
