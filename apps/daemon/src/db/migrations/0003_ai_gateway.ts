import type { Kysely } from 'kysely';
import type { Dialect } from '../database';

/** AI providers and models, their keys (encrypted), BYOK keys, policy, and one row per gateway call. */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('ai_providers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    /** openai | anthropic | google | openai-compatible */
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('base_url', 'text', (c) => c.notNull())
    /** allowed | required | forbidden */
    .addColumn('byok', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  // Central keys: more than one per provider, tried in priority order when a call fails over.
  await db.schema
    .createTable('ai_provider_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('provider_id', 'text', (c) => c.notNull().references('ai_providers.id').onDelete('cascade'))
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('key_encrypted', 'text', (c) => c.notNull())
    .addColumn('key_last4', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('ai_models')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('provider_id', 'text', (c) => c.notNull().references('ai_providers.id').onDelete('cascade'))
    /** The model id as the provider names it (gpt-4.1, claude-sonnet-4-5...). */
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    /** Prices in micro-dollars per million tokens (USD 3.00 = 3000000), exact integers. */
    .addColumn('input_price', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('output_price', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cache_read_price', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cache_write_price', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('ai_models_provider_name_uq', ['provider_id', 'name'])
    .execute();

  await db.schema
    .createTable('user_provider_keys')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('provider_id', 'text', (c) => c.notNull().references('ai_providers.id').onDelete('cascade'))
    .addColumn('key_encrypted', 'text', (c) => c.notNull())
    .addColumn('key_last4', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_provider_keys_pk', ['user_id', 'provider_id'])
    .execute();

  // Which models each role may use: glob patterns over "provider/model" ("*" for all).
  await db.schema
    .createTable('ai_role_models')
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('pattern', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ai_role_models_pk', ['role', 'pattern'])
    .execute();

  // Budgets and rate limits: the row with user_id '*' is everyone's default; a user's row overrides it.
  await db.schema
    .createTable('ai_limits')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('daily_budget', 'bigint')
    .addColumn('monthly_budget', 'bigint')
    .addColumn('requests_per_minute', 'integer')
    .addColumn('tokens_per_minute', 'integer')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('gateway_interceptions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('api_key_id', 'text')
    .addColumn('chat_id', 'text')
    .addColumn('provider_id', 'text')
    .addColumn('provider_kind', 'text', (c) => c.notNull())
    .addColumn('endpoint', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('streaming', 'integer', (c) => c.notNull())
    /** central | byok */
    .addColumn('credential', 'text', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('input_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('output_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cache_read_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cache_write_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    /** Exact cost in pico-dollars (USD 1 = 10^12): tokens x micro-dollars per million tokens. */
    .addColumn('cost_pico_usd', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('ttfb_ms', 'integer')
    .addColumn('total_ms', 'integer', (c) => c.notNull())
    .addColumn('overhead_ms', 'real', (c) => c.notNull())
    .addColumn('tool_calls', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('gateway_interceptions_user_time_idx')
    .on('gateway_interceptions')
    .columns(['user_id', 'time'])
    .execute();
  await db.schema
    .createIndex('gateway_interceptions_time_idx')
    .on('gateway_interceptions')
    .column('time')
    .execute();
  await db.schema
    .createIndex('gateway_interceptions_chat_idx')
    .on('gateway_interceptions')
    .column('chat_id')
    .execute();
}
