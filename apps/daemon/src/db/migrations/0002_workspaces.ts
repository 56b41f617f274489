import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database';

/** Templates and versions, workspaces and builds, the provisioner job queue and its logs, agents. */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('templates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text')
    .addColumn('description', 'text')
    .addColumn('active_version_id', 'text')
    .addColumn('created_by', 'text', (c) => c.references('users.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('template_versions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('template_id', 'text', (c) => c.notNull().references('templates.id').onDelete('cascade'))
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('manifest', 'text', (c) => c.notNull())
    /** The manifest as written (YAML), and the template's other files as JSON {path: base64}. */
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('files', 'text', (c) => c.notNull())
    .addColumn('message', 'text')
    .addColumn('created_by', 'text', (c) => c.references('users.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('template_versions_number_uq', ['template_id', 'number'])
    .execute();

  await db.schema
    .createTable('workspaces')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('owner_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('template_id', 'text', (c) => c.notNull().references('templates.id'))
    .addColumn('template_version_id', 'text', (c) => c.notNull().references('template_versions.id'))
    .addColumn('parameters', 'text', (c) => c.notNull())
    .addColumn('latest_build_id', 'text')
    /** Autostop: stop this long after the last activity (null: never); the current deadline. */
    .addColumn('ttl_ms', 'bigint')
    .addColumn('deadline', 'bigint')
    .addColumn('autostart_cron', 'text')
    .addColumn('autostart_timezone', 'text')
    .addColumn('next_autostart_at', 'bigint')
    .addColumn('last_activity_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();
  await db.schema.createIndex('workspaces_owner_idx').on('workspaces').column('owner_id').execute();
  // A live workspace's name is unique per owner; deleted workspaces keep their rows for history.
  await db.schema
    .createIndex('workspaces_owner_name_live_idx')
    .on('workspaces')
    .columns(['owner_id', 'name'])
    .unique()
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();

  await db.schema
    .createTable('provisioner_jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('input', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('worker_id', 'text')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .addColumn('cancel_requested_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('completed_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('provisioner_jobs_status_idx')
    .on('provisioner_jobs')
    .columns(['status', 'created_at'])
    .execute();

  await db.schema
    .createTable('job_logs')
    .addColumn('job_id', 'text', (c) => c.notNull().references('provisioner_jobs.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('line', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('job_logs_pk', ['job_id', 'seq'])
    .execute();

  await db.schema
    .createTable('workspace_builds')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('transition', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('initiator_id', 'text', (c) => c.references('users.id'))
    .addColumn('template_version_id', 'text', (c) => c.notNull().references('template_versions.id'))
    .addColumn('parameters', 'text', (c) => c.notNull())
    .addColumn('job_id', 'text', (c) => c.notNull().references('provisioner_jobs.id'))
    /** What the provisioner made (container id, process id...), carried from build to build. */
    .addColumn('provisioner_state', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('workspace_builds_number_uq', ['workspace_id', 'number'])
    .execute();

  await db.schema
    .createTable('workspace_agents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('build_id', 'text', (c) => c.notNull().references('workspace_builds.id'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('lifecycle', 'text', (c) => c.notNull())
    .addColumn('version', 'text')
    .addColumn('first_connected_at', 'bigint')
    .addColumn('last_connected_at', 'bigint')
    .addColumn('disconnected_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('workspace_agents_workspace_idx')
    .on('workspace_agents')
    .column('workspace_id')
    .execute();

  await db.schema
    .createTable('agent_logs')
    .addColumn('agent_id', 'text', (c) => c.notNull().references('workspace_agents.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('line', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('agent_logs_pk', ['agent_id', 'seq'])
    .execute();

  await db.schema
    .createTable('provisioner_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.references('users.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();
}
