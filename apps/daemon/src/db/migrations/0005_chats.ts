import type { Kysely } from 'kysely';
import type { Dialect } from '../database';

/**
 * Chats and their messages. Each chat and each message records the API key (token or sign-in
 * session) that started it, so every model call of a turn is attributed to it; the column has
 * no foreign key, since a key row outlives nothing here and a chat must outlive a revoked key.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('chats')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('owner_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('workspace_id', 'text', (c) => c.references('workspaces.id').onDelete('set null'))
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('system_prompt', 'text')
    .addColumn('title', 'text')
    /** Set on a subagent's chat: the chat whose turn spawned it. */
    .addColumn('parent_chat_id', 'text', (c) => c.references('chats.id').onDelete('cascade'))
    .addColumn('model_override', 'text')
    .addColumn('api_key_id', 'text')
    /** idle | running | error */
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('chats_owner_idx').on('chats').columns(['owner_id', 'updated_at']).execute();
  await db.schema.createIndex('chats_parent_idx').on('chats').column('parent_chat_id').execute();

  await db.schema
    .createTable('chat_messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('chat_id', 'text', (c) => c.notNull().references('chats.id').onDelete('cascade'))
    /** Position in the conversation; null while queued behind a running turn. */
    .addColumn('seq', 'integer')
    /** user | assistant */
    .addColumn('role', 'text', (c) => c.notNull())
    /** JSON list of parts: text, reasoning, tool-call, tool-result, error. */
    .addColumn('parts', 'text', (c) => c.notNull())
    .addColumn('api_key_id', 'text')
    /** queued | running | done | interrupted | error */
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('chat_messages_chat_seq_uq', ['chat_id', 'seq'])
    .execute();
  await db.schema
    .createIndex('chat_messages_status_idx')
    .on('chat_messages')
    .columns(['status', 'chat_id'])
    .execute();
}
