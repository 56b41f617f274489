import { create } from 'zustand';
import type { Outputs } from '../api/client';

export type Workspace = Outputs['workspaces']['list'][number];
export type WorkspaceEvent = Workspace | { id: string; deleted: true };

interface WorkspaceListStore {
  /** undefined until the first list arrives. */
  byId: Map<string, Workspace> | undefined;
  replaceAll(list: Workspace[]): void;
  /** A watch event: a changed workspace, or one that is gone. */
  apply(event: WorkspaceEvent): void;
}

/** The live list the workspaces screen (and the desktop tray) read: a list, then watch events. */
export const useWorkspaceList = create<WorkspaceListStore>((set, get) => ({
  byId: undefined,
  replaceAll(list) {
    set({ byId: new Map(list.map((w) => [w.id, w])) });
  },
  apply(event) {
    const current = get().byId;
    if (!current) return;
    const next = new Map(current);
    if ('deleted' in event) next.delete(event.id);
    else next.set(event.id, event);
    set({ byId: next });
  },
}));

export function sortWorkspaces(list: Iterable<Workspace>): Workspace[] {
  return [...list].sort((a, b) => a.owner.localeCompare(b.owner) || a.name.localeCompare(b.name));
}

/** Statuses that end by themselves: the screen shows progress while a workspace is in one. */
export const busyStatuses = new Set(['pending', 'starting', 'stopping', 'canceling', 'deleting']);

export function workspacePath(w: { owner: string; name: string }): string {
  return `/workspaces/${encodeURIComponent(w.owner)}/${encodeURIComponent(w.name)}`;
}
