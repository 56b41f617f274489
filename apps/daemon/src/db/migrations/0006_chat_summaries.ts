import type { Kysely } from 'kysely';
import type { Dialect } from '../database';

/**
 * A chat's summary, written by the small model on request: its text, the seq of the last
 * message it covers and when it was written (all null until someone asks for one). One column
 * per statement: SQLite adds a single column per ALTER TABLE.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('chats').addColumn('summary', 'text').execute();
  await db.schema.alterTable('chats').addColumn('summary_seq', 'integer').execute();
  await db.schema.alterTable('chats').addColumn('summarized_at', 'bigint').execute();
}
