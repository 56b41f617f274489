import type { ChatMessageStatus, ChatPart, Role } from '@warren/core';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { ChatMessagesTable, ChatsTable, Database } from '../db/schema';
import { findRoles } from '../users/userQueries';

type Db = Kysely<Database>;
export type ChatRow = Selectable<ChatsTable> & { owner: string; workspace: string | null };
export type ChatMessageRow = Selectable<ChatMessagesTable>;

function chatsWithNames(db: Db) {
  return db
    .selectFrom('chats')
    .innerJoin('users', 'users.id', 'chats.owner_id')
    .leftJoin('workspaces', 'workspaces.id', 'chats.workspace_id')
    .selectAll('chats')
    .select(['users.username as owner', 'workspaces.name as workspace']);
}

/** A new chat: it has no summary until someone asks for one. */
export type ChatInsert = Omit<Selectable<ChatsTable>, 'summary' | 'summary_seq' | 'summarized_at'>;

export async function insertChat(db: Db, row: ChatInsert): Promise<void> {
  await db.insertInto('chats').values(row).execute();
}

export function findChat(db: Db, id: string): Promise<ChatRow | undefined> {
  return chatsWithNames(db).where('chats.id', '=', id).executeTakeFirst();
}

export function listChats(
  db: Db,
  filter: { ownerId?: string; parentChatId?: string | null },
): Promise<ChatRow[]> {
  let query = chatsWithNames(db);
  if (filter.ownerId) query = query.where('chats.owner_id', '=', filter.ownerId);
  if (filter.parentChatId === null) query = query.where('chats.parent_chat_id', 'is', null);
  else if (filter.parentChatId) query = query.where('chats.parent_chat_id', '=', filter.parentChatId);
  return query.orderBy('chats.updated_at', 'desc').limit(500).execute();
}

export async function updateChat(
  db: Db,
  id: string,
  change: Partial<Pick<ChatsTable, 'status' | 'title'>>,
  now: number,
): Promise<void> {
  await db
    .updateTable('chats')
    .set({ ...change, updated_at: now })
    .where('id', '=', id)
    .execute();
}

/** Leaves updated_at alone: a summary is not activity, and must not lift the chat in the list. */
export async function setSummary(
  db: Db,
  id: string,
  summary: { text: string; upToSeq: number; at: number },
): Promise<void> {
  await db
    .updateTable('chats')
    .set({ summary: summary.text, summary_seq: summary.upToSeq, summarized_at: summary.at })
    .where('id', '=', id)
    .execute();
}

export async function deleteChat(db: Db, id: string): Promise<void> {
  await db.deleteFrom('chats').where('id', '=', id).execute();
}

export function listMessages(db: Db, chatId: string): Promise<ChatMessageRow[]> {
  return db
    .selectFrom('chat_messages')
    .selectAll()
    .where('chat_id', '=', chatId)
    .orderBy(sql`case when seq is null then 1 else 0 end`)
    .orderBy('seq')
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export async function insertMessage(db: Db, row: ChatMessageRow): Promise<void> {
  await db.insertInto('chat_messages').values(row).execute();
}

export async function updateMessage(
  db: Db,
  id: string,
  change: { parts?: ChatPart[]; status?: ChatMessageStatus; seq?: number },
  now: number,
): Promise<void> {
  await db
    .updateTable('chat_messages')
    .set({
      ...(change.parts ? { parts: JSON.stringify(change.parts) } : {}),
      ...(change.status ? { status: change.status } : {}),
      ...(change.seq !== undefined ? { seq: change.seq } : {}),
      updated_at: now,
    })
    .where('id', '=', id)
    .execute();
}

export async function deleteMessages(db: Db, ids: string[]): Promise<void> {
  if (ids.length) await db.deleteFrom('chat_messages').where('id', 'in', ids).execute();
}

/**
 * Chats with a turn that was running or waiting when the daemon stopped; `parents` maps each
 * subagent's chat among them to its parent chat.
 */
export async function chatsWithUnfinishedTurns(
  db: Db,
): Promise<{ running: string[]; queued: string[]; parents: Map<string, string> }> {
  const rows = await db
    .selectFrom('chat_messages')
    .innerJoin('chats', 'chats.id', 'chat_messages.chat_id')
    .select(['chat_messages.chat_id', 'chat_messages.status', 'chats.parent_chat_id'])
    .where('chat_messages.status', 'in', ['running', 'queued'])
    .execute();
  const pick = (status: string) => [
    ...new Set(rows.filter((r) => r.status === status).map((r) => r.chat_id)),
  ];
  const parents = new Map<string, string>();
  for (const r of rows) if (r.parent_chat_id) parents.set(r.chat_id, r.parent_chat_id);
  return { running: pick('running'), queued: pick('queued'), parents };
}

/** Chats marked running with no running message (a write failed mid-turn): they are idle. */
export async function idleStrandedChats(db: Db, now: number): Promise<number> {
  const result = await db
    .updateTable('chats')
    .set({ status: 'idle', updated_at: now })
    .where('status', '=', 'running')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('chat_messages')
            .select('chat_messages.id')
            .whereRef('chat_messages.chat_id', '=', 'chats.id')
            .where('chat_messages.status', '=', 'running'),
        ),
      ),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** A chat's workspace as a turn needs it: whose it is, and whether it was deleted. */
export function workspaceForTurn(
  db: Db,
  workspaceId: string,
): Promise<{ owner_id: string; deleted_at: number | null } | undefined> {
  return db
    .selectFrom('workspaces')
    .select(['owner_id', 'deleted_at'])
    .where('id', '=', workspaceId)
    .executeTakeFirst();
}

/**
 * The user behind an API key, if the key may still act: not revoked, not expired, its user not
 * suspended. A turn is attributed to the key that queued it, and refused without one.
 */
export async function activeKeyHolder(
  db: Db,
  apiKeyId: string,
  now: number,
): Promise<{ userId: string; username: string; roles: Role[] } | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select([
      'users.id as userId',
      'users.username',
      'users.status',
      'api_keys.revoked_at',
      'api_keys.expires_at',
    ])
    .where('api_keys.id', '=', apiKeyId)
    .executeTakeFirst();
  if (!row || row.revoked_at !== null || row.expires_at <= now || row.status !== 'active') return undefined;
  return { userId: row.userId, username: row.username, roles: await findRoles(db, row.userId) };
}
