import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, startTestDaemon, type TestDaemon } from './harness';
import { ensureAgentBuilt, settle, waitFor } from './workspaceHelpers';

type Client = ReturnType<TestDaemon['client']>;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

function agentPid(t: TestDaemon, workspaceId: string): number | undefined {
  const file = path.join(t.dataDir, 'workspaces', workspaceId, 'agent.pid');
  return fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8').trim()) : undefined;
}

beforeAll(() => ensureAgentBuilt(), 120_000);

describe.each(dialects)('local workspaces on %s', (dialect) => {
  let t: TestDaemon;
  let owner: Client;

  beforeAll(async () => {
    t = await startTestDaemon(dialect, { leaseMs: 2000, schedulerIntervalMs: 200 });
    owner = t.client((await t.setupOwner()).token);
  });
  afterAll(async () => {
    // Stop every agent the tests started, then the daemon.
    for (const ws of await owner.workspaces.list.query({}).catch(() => [])) {
      const pid = agentPid(t, ws.id);
      if (pid && processAlive(pid)) process.kill(-pid, 'SIGKILL');
    }
    await t?.close();
  });

  it('create -> agent ready -> file in home -> stop -> start keeps the file -> delete removes it', async () => {
    await owner.workspaces.create.mutate({
      name: 'dev',
      template: 'local',
      parameters: { file_server: false },
    });
    const ready = await settle(owner, 'dev', 'running');
    const home = path.join(t.dataDir, 'workspaces', ready.id, 'home');
    // The startup script ran in the workspace and made ~/projects.
    expect(fs.existsSync(path.join(home, 'projects'))).toBe(true);
    fs.writeFileSync(path.join(home, 'projects', 'notes.txt'), 'kept across stop and start');
    // The startup script's output is persisted and streamed as the agent's log.
    const greeting = await new Promise<string>((resolve, reject) => {
      const sub = owner.workspaces.agentLogs.subscribe(
        { name: 'dev' },
        {
          onData: (entry) => {
            if (entry.line.includes('Your workspace is')) {
              sub.unsubscribe();
              resolve(`${entry.source}: ${entry.line}`);
            }
          },
          onError: reject,
        },
      );
    });
    expect(greeting).toMatch(new RegExp(`^startup_script: Hello, .*Your workspace is ${home}`));
    const firstAgent = agentPid(t, ready.id);
    expect(firstAgent && processAlive(firstAgent)).toBe(true);

    await owner.workspaces.stop.mutate({ name: 'dev' });
    const stopped = await settle(owner, 'dev', 'stopped');
    expect(stopped.agent).toBeNull();
    await waitFor('the agent to exit', () => (firstAgent && !processAlive(firstAgent) ? true : undefined));

    await owner.workspaces.start.mutate({ name: 'dev' });
    await settle(owner, 'dev', 'running');
    expect(fs.readFileSync(path.join(home, 'projects', 'notes.txt'), 'utf8')).toBe(
      'kept across stop and start',
    );

    const history = await owner.workspaces.builds.query({ name: 'dev' });
    expect(history.map((b) => `${b.number}:${b.transition}:${b.status}`)).toEqual([
      '3:start:succeeded',
      '2:stop:succeeded',
      '1:start:succeeded',
    ]);
    expect(history.every((b) => b.initiator === 'owner')).toBe(true);

    const lastAgent = agentPid(t, ready.id);
    await owner.workspaces.delete.mutate({ name: 'dev' });
    await waitFor('the workspace to be gone', async () =>
      (await owner.workspaces.list.query({})).some((w) => w.name === 'dev') ? undefined : true,
    );
    expect(fs.existsSync(home)).toBe(false);
    expect(lastAgent && processAlive(lastAgent)).toBe(false);
    await expect(owner.workspaces.get.query({ name: 'dev' })).rejects.toThrow(/No workspace is named "dev"/);
  });

  it('a late subscriber gets the whole build log in order, then the end', async () => {
    await owner.workspaces.create.mutate({
      name: 'logs',
      template: 'local',
      parameters: { file_server: false },
    });
    await settle(owner, 'logs', 'running');
    const lines: { seq: number; line: string }[] = [];
    let end: { status: string } | undefined;
    await new Promise<void>((resolve, reject) => {
      const sub = owner.workspaces.logs.subscribe(
        { name: 'logs' },
        {
          onData: (event) => {
            if ('end' in event) {
              end = event;
              sub.unsubscribe();
              resolve();
            } else lines.push(event);
          },
          onError: reject,
        },
      );
    });
    expect(end?.status).toBe('succeeded');
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));
    expect(lines.some((l) => l.line.includes('succeeded'))).toBe(true);
  });

  it('of two concurrent starts of a stopped workspace, exactly one wins', async () => {
    await owner.workspaces.stop.mutate({ name: 'logs' });
    await settle(owner, 'logs', 'stopped');
    const results = await Promise.allSettled([
      owner.workspaces.start.mutate({ name: 'logs' }),
      owner.workspaces.start.mutate({ name: 'logs' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((refused.reason as { data?: { code?: string } }).data?.code).toBe('CONFLICT');
    expect((refused.reason as Error).message).toMatch(/busy|same moment/);
    await settle(owner, 'logs', 'running');
  });

  it('restart stops and starts again as two builds; update moves to the active version and asks for new parameters', async () => {
    await owner.workspaces.restart.mutate({ name: 'logs' });
    await waitFor('the restart to finish', async () => {
      const ws = await owner.workspaces.get.query({ name: 'logs' });
      return ws.latestBuild.transition === 'start' &&
        ws.status === 'running' &&
        ws.agent?.lifecycle === 'ready'
        ? ws
        : undefined;
    });
    const history = await owner.workspaces.builds.query({ name: 'logs' });
    expect(history.slice(0, 2).map((b) => `${b.transition}:${b.status}`)).toEqual([
      'start:succeeded',
      'stop:succeeded',
    ]);

    const v1 = [
      'name: versioned',
      'parameters:',
      '  - name: region',
      '    type: string',
      '    default: eu',
      '    mutable: false',
      'provisioner:',
      '  type: local',
      '',
    ];
    await owner.templates.push.mutate({ name: 'versioned', manifest: v1.join('\n') });
    await owner.workspaces.create.mutate({ name: 'upd', template: 'versioned' });
    await settle(owner, 'upd', 'running');
    const v2 = [
      ...v1.slice(0, 6),
      '  - name: size',
      '    type: number',
      '    validation: { min: 1, max: 4 }',
      ...v1.slice(6),
    ];
    await owner.templates.push.mutate({ name: 'versioned', manifest: v2.join('\n'), message: 'adds size' });
    expect((await owner.workspaces.get.query({ name: 'upd' })).outdated).toBe(true);

    await expect(owner.workspaces.update.mutate({ name: 'upd' })).rejects.toThrow(
      /size.*new in this version/s,
    );
    await expect(
      owner.workspaces.update.mutate({ name: 'upd', parameters: { size: 2, region: 'us' } }),
    ).rejects.toThrow(/region.*cannot be changed/s);
    await owner.workspaces.update.mutate({ name: 'upd', parameters: { size: 2 } });
    const updated = await waitFor('the update to finish', async () => {
      const ws = await owner.workspaces.get.query({ name: 'upd' });
      return ws.templateVersion === 2 && ws.status === 'running' && ws.latestBuild.transition === 'start'
        ? ws
        : undefined;
    });
    expect(updated.parameters).toEqual({ region: 'eu', size: 2 });
    expect(updated.outdated).toBe(false);
  });

  it('refuses parameters that break the template with a message naming them', async () => {
    const attempt = owner.workspaces.create.mutate({
      name: 'bad-params',
      template: 'local',
      parameters: { dotfiles_repo: 'not a url', nope: 1 },
    });
    await expect(attempt).rejects.toThrow(/dotfiles_repo/);
    await expect(attempt).rejects.toThrow(/nope/);
    expect((await owner.workspaces.list.query({})).some((w) => w.name === 'bad-params')).toBe(false);
  });

  it('refuses a bad manifest with the field and line of each problem', async () => {
    const manifest = [
      'name: broken',
      'provisioner:',
      '  type: local',
      '  local:',
      '    sandbox: maybe',
      '',
    ].join('\n');
    const push = owner.templates.push.mutate({ name: 'broken', manifest });
    await expect(push).rejects.toThrow(/warren\.yaml:5:\d+: provisioner\.local\.sandbox/);
    await expect(owner.templates.versions.query({ name: 'broken' })).rejects.toThrow(
      /No template is named "broken"/,
    );
  });

  it('autostop stops a workspace once its deadline passes without activity', async () => {
    await owner.workspaces.create.mutate({
      name: 'sleepy',
      template: 'local',
      parameters: { file_server: false },
    });
    await settle(owner, 'sleepy', 'running');
    // One minute is the smallest autostop; move the deadline into the past directly.
    await owner.workspaces.setSchedule.mutate({ name: 'sleepy', autostopMinutes: 1 });
    const ws = await owner.workspaces.get.query({ name: 'sleepy' });
    await t.daemon.db.kysely
      .updateTable('workspaces')
      .set({ deadline: Date.now() - 1 })
      .where('id', '=', ws.id)
      .execute();
    await settle(owner, 'sleepy', 'stopped');
    const history = await owner.workspaces.builds.query({ name: 'sleepy' });
    expect(history[0]).toMatchObject({ transition: 'stop', reason: 'autostop', initiator: 'warren' });
    expect(history.filter((b) => b.reason === 'autostop')).toHaveLength(1);
  });
});
