import { describe, expect, it } from 'vitest';
import type { WorkspaceView } from '../src/main/api/daemonClient';
import { WorkspaceNotifier } from '../src/main/notifications/notifications';

const view = (patch: Partial<WorkspaceView>): WorkspaceView =>
  ({
    id: 'w1',
    name: 'dev',
    owner: 'owner',
    status: 'starting',
    agent: null,
    deadline: null,
    ...patch,
  }) as WorkspaceView;

describe('notifications', () => {
  it('announce a workspace becoming ready once, not the ones already ready at sign-in', () => {
    const notifier = new WorkspaceNotifier();
    expect(
      notifier.update([
        view({ id: 'w0', name: 'old', status: 'running', agent: { lifecycle: 'ready', connected: true } }),
      ]),
    ).toEqual([]);
    expect(notifier.update([view({})])).toEqual([]);
    const ready = view({ status: 'running', agent: { lifecycle: 'ready', connected: true } });
    expect(notifier.update([ready]).map((n) => n.title)).toEqual(['dev is ready']);
    expect(notifier.update([ready])).toEqual([]);
  });

  it('warn once per deadline when autostop is close, again when activity moved it', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    const notifier = new WorkspaceNotifier(10 * 60_000);
    const running = { status: 'running' as const, agent: { lifecycle: 'ready', connected: true } };
    expect(notifier.update([view({ ...running, deadline: '2026-01-01T13:00:00Z' })], now)).toEqual([]);
    const soon = view({ ...running, deadline: '2026-01-01T12:05:00Z' });
    expect(notifier.update([soon], now).map((n) => n.title)).toEqual(['dev stops in 5 minutes']);
    expect(notifier.update([soon], now + 60_000)).toEqual([]);
    const bumped = view({ ...running, deadline: '2026-01-01T12:20:00Z' });
    expect(notifier.update([bumped], now + 60_000)).toEqual([]);
    expect(notifier.update([bumped], now + 15 * 60_000).map((n) => n.kind)).toEqual(['autostopSoon']);
  });
});
