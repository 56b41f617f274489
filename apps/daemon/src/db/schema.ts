import type { Generated } from 'kysely';

/** Times are integer milliseconds since the epoch on both dialects; booleans are 0/1. */
export interface UsersTable {
  id: string;
  username: string;
  email: string;
  password_hash: string;
  status: 'active' | 'suspended';
  created_at: number;
  updated_at: number;
  last_seen_at: number | null;
}

export interface UserRolesTable {
  user_id: string;
  role: string;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  /** 'session' for a login (cookie or CLI), 'token' for a named API token. */
  kind: 'session' | 'token';
  name: string;
  secret_hash: string;
  created_at: number;
  expires_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  created_ip: string | null;
}

export interface AuditLogTable {
  seq: Generated<number>;
  id: string;
  time: number;
  actor_id: string | null;
  actor_username: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  target_name: string | null;
  source_ip: string | null;
  api_key_id: string | null;
  status: 'ok' | 'error';
  error_code: string | null;
  diff: string;
}

export interface DeploymentFlagsTable {
  key: string;
  value: string;
}

export interface TemplatesTable {
  id: string;
  name: string;
  display_name: string | null;
  description: string | null;
  active_version_id: string | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface TemplateVersionsTable {
  id: string;
  template_id: string;
  number: number;
  /** The validated manifest as JSON. */
  manifest: string;
  /** The manifest as the author wrote it (YAML). */
  source: string;
  /** Other template files: JSON {path: base64}. */
  files: string;
  message: string | null;
  created_by: string | null;
  created_at: number;
}

export interface WorkspacesTable {
  id: string;
  owner_id: string;
  name: string;
  template_id: string;
  template_version_id: string;
  parameters: string;
  latest_build_id: string | null;
  ttl_ms: number | null;
  deadline: number | null;
  autostart_cron: string | null;
  autostart_timezone: string | null;
  next_autostart_at: number | null;
  last_activity_at: number | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export type JobStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'canceled';

export interface ProvisionerJobsTable {
  id: string;
  kind: string;
  status: JobStatus;
  input: string;
  tags: string;
  worker_id: string | null;
  lease_expires_at: number | null;
  attempts: Generated<number>;
  error: string | null;
  cancel_requested_at: number | null;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
}

export interface JobLogsTable {
  job_id: string;
  seq: number;
  time: number;
  level: 'info' | 'warn' | 'error';
  line: string;
}

export type BuildTransition = 'start' | 'stop' | 'delete';

export interface WorkspaceBuildsTable {
  id: string;
  workspace_id: string;
  number: number;
  transition: BuildTransition;
  reason: 'initiator' | 'autostop' | 'autostart';
  initiator_id: string | null;
  template_version_id: string;
  parameters: string;
  job_id: string;
  provisioner_state: string | null;
  created_at: number;
}

export type AgentLifecycle = 'created' | 'starting' | 'ready' | 'start_error' | 'shutting_down' | 'off';

export interface WorkspaceAgentsTable {
  id: string;
  workspace_id: string;
  build_id: string;
  token_hash: string;
  lifecycle: AgentLifecycle;
  version: string | null;
  first_connected_at: number | null;
  last_connected_at: number | null;
  disconnected_at: number | null;
  created_at: number;
  /** The SSH host key (OpenSSH form) the agent reported first; later different keys are refused. */
  ssh_host_key: string | null;
}

export interface AgentLogsTable {
  agent_id: string;
  seq: number;
  time: number;
  source: string;
  line: string;
}

export interface ProvisionerKeysTable {
  id: string;
  name: string;
  secret_hash: string;
  tags: string;
  created_by: string | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export type ProviderKind = 'openai' | 'anthropic' | 'google' | 'openai-compatible';

export interface AiProvidersTable {
  id: string;
  name: string;
  kind: ProviderKind;
  base_url: string;
  byok: 'allowed' | 'required' | 'forbidden';
  enabled: number;
  created_at: number;
  updated_at: number;
}

export interface AiProviderKeysTable {
  id: string;
  provider_id: string;
  priority: number;
  key_encrypted: string;
  key_last4: string;
  created_at: number;
}

export interface AiModelsTable {
  id: string;
  provider_id: string;
  name: string;
  display_name: string | null;
  enabled: number;
  /** Micro-dollars per million tokens. */
  input_price: number;
  output_price: number;
  cache_read_price: number;
  cache_write_price: number;
  created_at: number;
}

export interface UserProviderKeysTable {
  user_id: string;
  provider_id: string;
  key_encrypted: string;
  key_last4: string;
  created_at: number;
}

export interface AiRoleModelsTable {
  role: string;
  pattern: string;
}

export interface AiLimitsTable {
  /** A user id, or '*' for everyone's default. */
  user_id: string;
  /** Micro-dollars. */
  daily_budget: number | null;
  monthly_budget: number | null;
  requests_per_minute: number | null;
  tokens_per_minute: number | null;
  updated_at: number;
}

export interface GatewayInterceptionsTable {
  id: string;
  time: number;
  user_id: string;
  api_key_id: string | null;
  chat_id: string | null;
  provider_id: string | null;
  provider_kind: string;
  endpoint: string;
  model: string;
  streaming: number;
  credential: 'central' | 'byok';
  status: number;
  error: string | null;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  /** Exact cost in pico-dollars (USD 1 = 10^12): tokens x micro-dollars per million tokens. */
  cost_pico_usd: number;
  ttfb_ms: number | null;
  total_ms: number;
  overhead_ms: number;
  /** JSON list of {name, id} the model asked to call. */
  tool_calls: string;
}

export interface ChatsTable {
  id: string;
  owner_id: string;
  workspace_id: string | null;
  model: string;
  system_prompt: string | null;
  title: string | null;
  parent_chat_id: string | null;
  model_override: string | null;
  api_key_id: string | null;
  status: 'idle' | 'running' | 'error';
  created_at: number;
  updated_at: number;
  /** The latest summary (small model, on request), the seq of the last message it covers, when written. */
  summary: string | null;
  summary_seq: number | null;
  summarized_at: number | null;
}

export interface ChatMessagesTable {
  id: string;
  chat_id: string;
  seq: number | null;
  role: 'user' | 'assistant';
  /** JSON list of parts. */
  parts: string;
  api_key_id: string | null;
  status: 'queued' | 'running' | 'done' | 'interrupted' | 'error';
  created_at: number;
  updated_at: number;
}

export interface Database {
  users: UsersTable;
  user_roles: UserRolesTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  deployment_flags: DeploymentFlagsTable;
  templates: TemplatesTable;
  template_versions: TemplateVersionsTable;
  workspaces: WorkspacesTable;
  provisioner_jobs: ProvisionerJobsTable;
  job_logs: JobLogsTable;
  workspace_builds: WorkspaceBuildsTable;
  workspace_agents: WorkspaceAgentsTable;
  agent_logs: AgentLogsTable;
  provisioner_keys: ProvisionerKeysTable;
  ai_providers: AiProvidersTable;
  ai_provider_keys: AiProviderKeysTable;
  ai_models: AiModelsTable;
  user_provider_keys: UserProviderKeysTable;
  ai_role_models: AiRoleModelsTable;
  ai_limits: AiLimitsTable;
  gateway_interceptions: GatewayInterceptionsTable;
  chats: ChatsTable;
  chat_messages: ChatMessagesTable;
}
