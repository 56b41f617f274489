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

export interface Database {
  users: UsersTable;
  user_roles: UserRolesTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  deployment_flags: DeploymentFlagsTable;
}
