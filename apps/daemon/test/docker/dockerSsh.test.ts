import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../harness';
import { type CliHome, cliHome, configSsh, openSshAvailable, scp, ssh } from '../tunnels/tunnelHelpers';
import { ensureAgentBuilt, settle } from '../workspaceHelpers';
import { ensureDockerd, ensureTestImage } from './testImage';

const availability = await ensureDockerd();
if (!availability.available) console.log(`Skipping SSH into a Docker workspace: ${availability.reason}`);
if (!openSshAvailable)
  console.log('Skipping SSH into a Docker workspace: OpenSSH (ssh, scp) is not installed.');
const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe.skipIf(!availability.available || !openSshAvailable)('OpenSSH into a Docker workspace', () => {
  let t: TestDaemon;
  let home: CliHome;

  beforeAll(async () => {
    ensureAgentBuilt();
    await ensureTestImage();
    t = await startTestDaemon('sqlite');
    const { token } = await t.setupOwner();
    await t.client(token).workspaces.create.mutate({
      name: 'box',
      template: 'docker',
      parameters: { cpus: 1, memory_mib: 512 },
    });
    await settle(t.client(token), 'box', 'running', 90_000);
    home = await cliHome(t.url, token);
    expect((await configSsh(home)).code).toBe(0);
  }, 180_000);
  afterAll(async () => {
    const docker = new Dockerode();
    for (const c of await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: ['dev.warren.managed=true'] }),
    })) {
      if (c.Labels['dev.warren.workspace-name'] === 'box' || c.Names.some((n) => n.includes('box')))
        await docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => {});
    }
    await t?.close();
    if (home) fs.rmSync(home.dir, { recursive: true, force: true });
  });

  it('ssh runs commands inside the container, and scp copies files in and out', async () => {
    const result = await ssh(home, 'warren.box', 'cat /etc/passwd | head -1; id -u; exit 7');
    expect(result.stdout).toContain('root:x:0:0');
    expect(result.code).toBe(7);

    const local = path.join(home.dir, 'data.bin');
    fs.writeFileSync(local, randomBytes(1024 * 1024));
    expect((await scp(home, [local, 'warren.box:/tmp/data.bin'])).code).toBe(0);
    const inContainer = await ssh(home, 'warren.box', 'sha256sum /tmp/data.bin');
    expect(inContainer.stdout.split(' ')[0]).toBe(sha256(local));
    const back = path.join(home.dir, 'back.bin');
    expect((await scp(home, ['warren.box:/tmp/data.bin', back])).code).toBe(0);
    expect(sha256(back)).toBe(sha256(local));
  }, 60_000);

  it("the container's agent runs with Warren's malloc settings, and the shell it starts does not", async () => {
    // Each process's environment as it started; the agent's is the one with the marker.
    const script =
      'for p in /proc/[0-9]*; do tr "\\0" "\\n" < $p/environ 2>/dev/null | grep -q "^WARREN_MALLOC_TUNED=1$" && tr "\\0" "\\n" < $p/environ | grep "^GLIBC_TUNABLES="; done; ' +
      "echo inherited: $(env | grep -c -E '^(GLIBC_TUNABLES|WARREN_MALLOC_TUNED)=')";
    const result = await ssh(home, 'warren.box', script);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^GLIBC_TUNABLES=glibc\.malloc\.mmap_threshold=/);
    expect(lines.at(-1)).toBe('inherited: 0');
    expect(result.code).toBe(0);
  }, 60_000);
});
