import type { WorkspaceView } from '../api/daemonClient';

export type DesktopNotification =
  | { kind: 'workspaceReady'; workspace: string; title: string; body: string }
  | { kind: 'autostopSoon'; workspace: string; title: string; body: string; deadline: string }
  | { kind: 'tunnelDropped'; workspace: string; title: string; body: string }
  | { kind: 'updateReady'; version: string; title: string; body: string }
  | { kind: 'updates'; title: string; body: string };

/** How long before a workspace's autostop deadline the desktop warns. */
export const AUTOSTOP_WARNING_MS = 10 * 60_000;

const isReady = (view: WorkspaceView | undefined) =>
  view?.status === 'running' && view.agent?.lifecycle === 'ready';

/**
 * The notifications a change in workspace state deserves, as data (the Electron layer shows
 * them). `warned` remembers which deadlines were already announced, so a warning is given once
 * per deadline, and again only if activity moved the deadline and it comes close again.
 */
export class WorkspaceNotifier {
  #previous = new Map<string, WorkspaceView>();
  readonly #warned = new Map<string, string>();
  #primed = false;

  constructor(private readonly warnBeforeMs = AUTOSTOP_WARNING_MS) {}

  /** The notifications between the last call and this one; the first call only records state. */
  update(workspaces: readonly WorkspaceView[], now = Date.now()): DesktopNotification[] {
    const out: DesktopNotification[] = [];
    for (const view of workspaces) {
      const before = this.#previous.get(view.id);
      if (this.#primed && isReady(view) && !isReady(before))
        out.push({
          kind: 'workspaceReady',
          workspace: view.name,
          title: `${view.name} is ready`,
          body: 'Its agent is up: connect, open a terminal or open it in VS Code from the tray.',
        });
      const soon = autostopSoon(view, now, this.warnBeforeMs);
      if (soon && this.#warned.get(view.id) !== view.deadline) {
        this.#warned.set(view.id, view.deadline ?? '');
        out.push(soon);
      }
    }
    this.#previous = new Map(workspaces.map((view) => [view.id, view]));
    this.#primed = true;
    return out;
  }
}

function autostopSoon(
  view: WorkspaceView,
  now: number,
  warnBeforeMs: number,
): DesktopNotification | undefined {
  if (view.status !== 'running' || !view.deadline) return undefined;
  const left = Date.parse(view.deadline) - now;
  if (!(left > 0 && left <= warnBeforeMs)) return undefined;
  const minutes = Math.max(1, Math.round(left / 60_000));
  return {
    kind: 'autostopSoon',
    workspace: view.name,
    deadline: view.deadline,
    title: `${view.name} stops in ${minutes} minute${minutes === 1 ? '' : 's'}`,
    body: 'It has been idle; use it (a terminal, SSH or a tunnel) to keep it running.',
  };
}

export function tunnelDropped(workspace: string, detail: string): DesktopNotification {
  return {
    kind: 'tunnelDropped',
    workspace,
    title: `Ports of ${workspace} disconnected`,
    body: `Warren is reconnecting (${detail}); your forwarded ports come back when it does.`,
  };
}
