import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callProcedure } from './callProcedure';
import { dialects, rememberSecret, startTestDaemon, type TestDaemon } from './harness';
import { waitFor } from './workspaceHelpers';

type Client = ReturnType<TestDaemon['client']>;

/** A daemon whose built-in runner is off: the test plays the provisioner through the queue itself. */
describe.each(dialects)('the build queue on %s', (dialect) => {
  let t: TestDaemon;
  let owner: Client;

  beforeAll(async () => {
    t = await startTestDaemon(dialect, {
      leaseMs: 1000,
      schedulerIntervalMs: 200,
      flags: { provisioners: '0', 'workspace-quota': '5' },
    });
    owner = t.client((await t.setupOwner()).token);
  });
  afterAll(() => t?.close());

  const jobOf = async (name: string) => {
    const ws = await owner.workspaces.get.query({ name });
    const build = await t.daemon.db.kysely
      .selectFrom('workspace_builds')
      .select('job_id')
      .where('workspace_id', '=', ws.id)
      .where('number', '=', ws.latestBuild.number)
      .executeTakeFirstOrThrow();
    return build.job_id;
  };

  it('streams a running build log live to a subscriber that joined late: every line once, in order', async () => {
    await owner.workspaces.create.mutate({ name: 'stream', template: 'local' });
    const { queue } = t.daemon.services;
    const job = await queue.acquire('test-runner', {}, 60_000);
    expect(job?.id).toBe(await jobOf('stream'));
    const write = async (from: number, count: number) => {
      for (let i = from; i < from + count; i += 10) {
        await queue.appendLogs(
          job?.id ?? '',
          Array.from({ length: 10 }, (_, k) => ({ level: 'info' as const, line: `line ${i + k}` })),
        );
      }
    };
    await write(1, 200);
    const seen: number[] = [];
    let end: { status: string } | undefined;
    const done = new Promise<void>((resolve, reject) => {
      owner.workspaces.logs.subscribe(
        { name: 'stream' },
        {
          onData: (event) => {
            if ('end' in event) {
              end = event;
              resolve();
            } else seen.push(Number(event.line.replace('line ', '')));
          },
          onError: reject,
        },
      );
    });
    // More lines while the subscriber reads the backlog, then the job ends.
    await write(201, 300);
    await t.daemon.services.builds.complete(job?.id ?? '', 'test-runner', { status: 'succeeded', state: {} });
    await done;
    expect(seen).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(end?.status).toBe('succeeded');
    expect((await owner.workspaces.get.query({ name: 'stream' })).status).toBe('running');
  });

  it('cancels a pending build at once, and a running one at its next lease renewal', async () => {
    await owner.workspaces.stop.mutate({ name: 'stream' });
    expect((await owner.workspaces.cancel.mutate({ name: 'stream' })).status).toBe('canceled');

    await owner.workspaces.start.mutate({ name: 'stream' });
    const { queue } = t.daemon.services;
    const job = await queue.acquire('test-runner', {}, 60_000);
    expect((await owner.workspaces.cancel.mutate({ name: 'stream' })).status).toBe('canceling');
    expect(await queue.renew(job?.id ?? '', 'test-runner', 60_000)).toEqual({ owned: true, cancel: true });
    await t.daemon.services.builds.complete(job?.id ?? '', 'test-runner', {
      status: 'canceled',
      error: 'The build was canceled.',
    });
    expect((await owner.workspaces.get.query({ name: 'stream' })).status).toBe('canceled');
  });

  it('a job whose runner vanished is retried once, then failed, and the workspace says so', async () => {
    await owner.workspaces.start.mutate({ name: 'stream' });
    const { queue } = t.daemon.services;
    const first = await queue.acquire('vanishing-runner', {}, 300);
    await waitFor('the job to be retried', async () =>
      (await queue.get(first?.id ?? ''))?.status === 'pending' ? true : undefined,
    );
    expect((await owner.workspaces.get.query({ name: 'stream' })).status).toBe('pending');
    await queue.acquire('vanishing-runner', {}, 300);
    const failed = await waitFor('the build to fail', async () => {
      const ws = await owner.workspaces.get.query({ name: 'stream' });
      return ws.status === 'failed' ? ws : undefined;
    });
    expect(failed.latestBuild.error).toMatch(/stopped and the build was not retried/);
  });

  it('autostart starts a stopped workspace once per scheduled time', async () => {
    await owner.workspaces.create.mutate({ name: 'morning', template: 'local' });
    const { queue, builds } = t.daemon.services;
    const run = async () => {
      const job = await queue.acquire('test-runner', {}, 60_000);
      await builds.complete(job?.id ?? '', 'test-runner', { status: 'succeeded', state: {} });
    };
    await run();
    await owner.workspaces.stop.mutate({ name: 'morning' });
    await run();
    const ws = await owner.workspaces.setSchedule.mutate({
      name: 'morning',
      autostart: { cron: '0 9 * * 1-5', timezone: 'Europe/Lisbon' },
    });
    expect(ws.autostart?.next).toMatch(/T0[89]:00:00/);
    await t.daemon.db.kysely
      .updateTable('workspaces')
      .set({ next_autostart_at: Date.now() - 1000 })
      .where('id', '=', ws.id)
      .execute();
    const started = await waitFor('the autostart', async () => {
      const w = await owner.workspaces.get.query({ name: 'morning' });
      return w.latestBuild.reason === 'autostart' ? w : undefined;
    });
    expect(Date.parse(started.autostart?.next ?? '')).toBeGreaterThan(Date.now());
    await new Promise((r) => setTimeout(r, 600));
    const history = await owner.workspaces.builds.query({ name: 'morning' });
    expect(history.filter((b) => b.reason === 'autostart')).toHaveLength(1);
    await expect(
      owner.workspaces.setSchedule.mutate({
        name: 'morning',
        autostart: { cron: 'not cron', timezone: 'UTC' },
      }),
    ).rejects.toThrow(/not valid/);
  });

  it('activity pushes the autostop deadline back', async () => {
    const { queue, builds, workspaces } = t.daemon.services;
    // Plays the runner: every pending build succeeds.
    const runAll = async () => {
      for (
        let job = await queue.acquire('test-runner', {}, 60_000);
        job;
        job = await queue.acquire('test-runner', {}, 60_000)
      ) {
        await builds.complete(job.id, 'test-runner', { status: 'succeeded', state: {} });
      }
    };
    await runAll();
    await owner.workspaces.create.mutate({ name: 'busy', template: 'local', autostopMinutes: 60 });
    await runAll();
    const before = await owner.workspaces.get.query({ name: 'busy' });
    expect(Date.parse(before.deadline ?? '')).toBeGreaterThan(Date.now() + 59 * 60_000);
    await t.daemon.db.kysely
      .updateTable('workspaces')
      .set({ deadline: Date.now() + 60_000 })
      .where('id', '=', before.id)
      .execute();
    await workspaces.bumpActivity(before.id);
    const after = await owner.workspaces.get.query({ name: 'busy' });
    expect(Date.parse(after.deadline ?? '')).toBeGreaterThan(Date.now() + 59 * 60_000);
    expect(Date.parse(after.lastActivityAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(before.lastActivityAt ?? ''),
    );
    await owner.workspaces.delete.mutate({ name: 'busy' });
    await runAll();
  });

  it('enforces the per-user workspace quota', async () => {
    await owner.workspaces.create.mutate({ name: 'third', template: 'local' });
    await owner.workspaces.create.mutate({ name: 'fourth', template: 'local' });
    await owner.workspaces.create.mutate({ name: 'fifth', template: 'local' });
    await expect(owner.workspaces.create.mutate({ name: 'sixth', template: 'local' })).rejects.toThrow(
      /quota of 5 workspaces/,
    );
  });

  it('external provisioners take only jobs whose tags they offer', async () => {
    const manifest = [
      'name: tagged',
      'provisioner:',
      '  type: local',
      '  tags:',
      '    region: mars',
      '',
    ].join('\n');
    await owner.templates.push.mutate({ name: 'tagged', manifest });
    const earth = rememberSecret(
      (await owner.provisionerKeys.create.mutate({ name: 'earth', tags: { region: 'earth' } })).key,
    );
    const mars = rememberSecret(
      (await owner.provisionerKeys.create.mutate({ name: 'mars', tags: { region: 'mars' } })).key,
    );
    // Run the untagged jobs first so only the tagged one is left for the keys.
    const drain = async () => {
      for (
        let job = await t.daemon.services.queue.acquire('drain', {}, 60_000);
        job;
        job = await t.daemon.services.queue.acquire('drain', {}, 60_000)
      ) {
        await t.daemon.services.builds.complete(job.id, 'drain', { status: 'succeeded', state: {} });
      }
    };
    await drain();
    // Make room under the quota: a deleted workspace no longer counts once its delete build ran.
    await owner.workspaces.delete.mutate({ name: 'fifth' });
    await drain();
    await owner.workspaces.create.mutate({ name: 'martian', template: 'tagged' });

    const acquire = (key: string) =>
      callProcedure(t.url, 'provisionerd.acquire', 'mutation', {
        provisionerKey: key,
        input: { instanceId: 'instance-1' },
      });
    expect(JSON.parse((await acquire(earth)).text)).toEqual({ result: { data: null } });
    const taken = await acquire(mars);
    const job = (
      JSON.parse(taken.text) as { result: { data: { jobId: string; request: { agent: { token: string } } } } }
    ).result.data;
    expect(job.request.agent.token).toMatch(/^wat_/);
    rememberSecret(job.request.agent.token);

    await owner.provisionerKeys.revoke.mutate({ name: 'mars' });
    expect((await acquire(mars)).status).toBe(401);
  });

  it('a queue full of jobs nobody can take still hands out the job behind them', async () => {
    const { queue } = t.daemon.services;
    const db = t.daemon.db.kysely;
    const stuck: string[] = [];
    for (let i = 0; i < 120; i++)
      stuck.push(await queue.enqueue(db, 'start', {}, { pool: 'nobody-serves-this' }));
    const behind = await queue.enqueue(db, 'start', {}, {});
    try {
      expect((await queue.acquire('runner', {}, 60_000))?.id).toBe(behind);
    } finally {
      await db
        .updateTable('provisioner_jobs')
        .set({ status: 'canceled' })
        .where('id', 'in', [...stuck, behind])
        .execute();
    }
  });
});
