import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../harness';
import { ensureAgentBuilt, settle, waitFor } from '../workspaceHelpers';
import { ensureDockerd, ensureTestImage } from './testImage';

const docker = new Dockerode();
const availability = await ensureDockerd();
if (!availability.available) console.log(`Skipping the Docker workspace flow: ${availability.reason}`);

async function exec(containerId: string, script: string): Promise<string> {
  const run = await docker
    .getContainer(containerId)
    .exec({ Cmd: ['sh', '-c', script], AttachStdout: true, AttachStderr: true });
  const stream = await run.start({});
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((r) => stream.on('end', r));
  // Docker multiplexes stdout/stderr with an 8-byte header per frame.
  const raw = Buffer.concat(chunks);
  let out = '';
  for (let i = 0; i + 8 <= raw.length; ) {
    const size = raw.readUInt32BE(i + 4);
    out += raw.subarray(i + 8, i + 8 + size).toString();
    i += 8 + size;
  }
  return out;
}

const workspaceLabel = (id: string) => ({
  filters: JSON.stringify({ label: [`dev.warren.workspace-id=${id}`] }),
});

describe.skipIf(!availability.available)('a Docker workspace end to end', () => {
  let t: TestDaemon;
  let owner: ReturnType<TestDaemon['client']>;

  beforeAll(async () => {
    ensureAgentBuilt();
    await ensureTestImage();
    t = await startTestDaemon('sqlite', { leaseMs: 3000, schedulerIntervalMs: 500 });
    owner = t.client((await t.setupOwner()).token);
  }, 120_000);
  afterAll(async () => {
    for (const c of await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: ['dev.warren.managed=true'] }),
    })) {
      if (c.Labels['dev.warren.owner'] === 'owner')
        await docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => {});
    }
    await t?.close();
  });

  it('create -> agent ready -> file in /home -> stop -> start keeps it -> delete removes container and volume', async () => {
    await owner.workspaces.create.mutate({
      name: 'box',
      template: 'docker',
      parameters: { cpus: 1, memory_mib: 512 },
    });
    const ready = await settle(owner, 'box', 'running', 60_000);
    const [container] = await docker.listContainers(workspaceLabel(ready.id));
    expect(container?.Labels['dev.warren.owner']).toBe('owner');
    const inspect = await docker.getContainer(container?.Id ?? '').inspect();
    expect(inspect.HostConfig.NanoCpus).toBe(1e9);
    expect(inspect.HostConfig.Memory).toBe(512 * 1024 * 1024);
    await exec(container?.Id ?? '', 'echo "survives restarts" > /home/proof.txt');

    await owner.workspaces.stop.mutate({ name: 'box' });
    await settle(owner, 'box', 'stopped', 60_000);
    expect(await docker.listContainers({ all: true, ...workspaceLabel(ready.id) })).toHaveLength(0);
    const volumes = (await docker.listVolumes(workspaceLabel(ready.id))).Volumes ?? [];
    expect(volumes.map((v) => v.Name)).toContain(`warren-${ready.id}-home`);

    await owner.workspaces.start.mutate({ name: 'box' });
    await settle(owner, 'box', 'running', 60_000);
    const [again] = await docker.listContainers(workspaceLabel(ready.id));
    expect(again?.Id).not.toBe(container?.Id);
    expect((await exec(again?.Id ?? '', 'cat /home/proof.txt')).trim()).toBe('survives restarts');

    await owner.workspaces.delete.mutate({ name: 'box' });
    await waitFor(
      'the workspace to be deleted',
      async () => ((await owner.workspaces.list.query({})).some((w) => w.name === 'box') ? undefined : true),
      60_000,
    );
    expect(await docker.listContainers({ all: true, ...workspaceLabel(ready.id) })).toHaveLength(0);
    expect((await docker.listVolumes(workspaceLabel(ready.id))).Volumes ?? []).toHaveLength(0);
  }, 180_000);

  it('a missing image fails the build with a clear error and leaves nothing registered', async () => {
    await owner.workspaces.create.mutate({
      name: 'ghost',
      template: 'docker',
      parameters: { image: 'warren-no-such-image:1' },
    });
    const failed = await settle(owner, 'ghost', 'failed', 60_000);
    expect(failed.latestBuild.error).toMatch(/warren-no-such-image:1 is not on the Docker host/);
    expect(await docker.listContainers({ all: true, ...workspaceLabel(failed.id) })).toHaveLength(0);
    expect((await docker.listVolumes(workspaceLabel(failed.id))).Volumes ?? []).toHaveLength(0);
  }, 120_000);
});
