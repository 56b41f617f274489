import type { Kysely } from 'kysely';

/** Tunnels: the SSH host key each agent reported first, which the daemon pins and hands to clients. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('workspace_agents').addColumn('ssh_host_key', 'text').execute();
}
