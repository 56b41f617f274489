import { authorizeWorkspace } from '../auth/policy';
import type { Db } from '../db/database';
import { findRoles } from '../users/userQueries';
import { workspaceForTurn } from './chatQueries';

export const WORKSPACE_GONE_MESSAGE =
  "This chat's workspace was deleted, so Warren stopped the turn before any tool ran. Start a new chat in another workspace.";
export const WORKSPACE_DENIED_MESSAGE =
  "This chat's owner may no longer change its workspace, so Warren stopped the turn before any tool ran.";

/**
 * Why the chat's workspace may not be used by a turn starting now, if it may not. Access was
 * checked when the chat was created, but a workspace can be deleted or change hands (or its
 * owner lose the owner role) while the chat lives on, so every turn checks again before its
 * tools can reach the workspace.
 */
export async function workspaceRefusal(
  db: Db,
  chat: { ownerId: string; workspaceId: string | null },
): Promise<string | undefined> {
  if (!chat.workspaceId) return undefined;
  const workspace = await workspaceForTurn(db.kysely, chat.workspaceId);
  if (!workspace || workspace.deleted_at !== null) return WORKSPACE_GONE_MESSAGE;
  const roles = await findRoles(db.kysely, chat.ownerId);
  try {
    // The policy takes an actor; only the chat owner's id and current roles matter to it.
    authorizeWorkspace(
      { userId: chat.ownerId, username: '', roles, apiKeyId: '' },
      workspace.owner_id,
      'write',
    );
    return undefined;
  } catch {
    return WORKSPACE_DENIED_MESSAGE;
  }
}
