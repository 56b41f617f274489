import type { Kysely } from 'kysely';
import type { Dialect } from '../database';
import * as identity from './0001_identity';
import * as workspaces from './0002_workspaces';
import * as aiGateway from './0003_ai_gateway';
import * as tunnels from './0004_tunnels';
import * as chats from './0005_chats';
import * as chatSummaries from './0006_chat_summaries';

export interface Migration {
  name: string;
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
}

/** Forward-only: append new migrations; never edit or reorder a released one. */
export const migrations: Migration[] = [
  { name: '0001_identity', up: identity.up },
  { name: '0002_workspaces', up: workspaces.up },
  { name: '0003_ai_gateway', up: aiGateway.up },
  { name: '0004_tunnels', up: tunnels.up },
  { name: '0005_chats', up: chats.up },
  { name: '0006_chat_summaries', up: chatSummaries.up },
];
