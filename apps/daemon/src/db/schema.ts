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
}
