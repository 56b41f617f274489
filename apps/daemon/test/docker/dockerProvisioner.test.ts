import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type DockerResources, Secret, WarrenError } from '@warren/core';
import { waitFor as waitUntil } from '@warren/core/test-support/waitFor';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerName, homeVolumeName, WARREN_LABELS } from '../../src/provisioners/docker/containerSpec';
import { DockerProvisioner, type DockerState } from '../../src/provisioners/docker/DockerProvisioner';
import type { BuildLog, DockerProvisionRequest, Transition } from '../../src/provisioners/Provisioner';
import { ARTIFACTS_DIR, rememberSecret } from '../harness';
import { ensureDockerd, ensureTestImage } from './testImage';

const run = promisify(execFile);
const docker = await ensureDockerd();
if (!docker.available) console.warn(`Skipping the Docker provisioner tests: ${docker.reason}`);

/**
 * The stand-in agent: proves it ran with the token in its environment by appending one line to
 * /home/warren-proof per boot (WARREN_PROOF and the token's hash, never the token), then idles
 * until stop's SIGTERM.
 */
const AGENT_SOURCE = `
import fs from 'node:fs';
import os from 'node:os';
import { createHash } from 'node:crypto';
const token = process.env.WARREN_AGENT_TOKEN ?? '';
const line = process.env.WARREN_PROOF + ' ' + createHash('sha256').update(token).digest('hex');
fs.appendFileSync('/home/warren-proof', line + '\\n');
console.log('test agent: running');
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1 << 30);
`;

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

function serveAgent(port = 0): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url === '/bin/warren-agent.mjs')
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(AGENT_SOURCE);
    else res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

const waitFor = <T>(what: string, probe: () => Promise<T | undefined>) => waitUntil(what, probe, 60_000);

describe.skipIf(!docker.available)('DockerProvisioner against a real Docker Engine', () => {
  const api = new Dockerode();
  const owner = { id: randomUUID(), username: `wt${randomBytes(4).toString('hex')}` };
  const buildLog: string[] = [];
  const tokens: string[] = [];
  let image: string;
  let agentServer: http.Server;
  let agentBase: string;
  const provisioner = new DockerProvisioner({ stopTimeoutSeconds: 3 });

  function request(
    workspaceId: string,
    transition: Transition,
    options: {
      resources?: Partial<DockerResources>;
      binaryUrl?: string;
      previous?: DockerState;
      orphan?: boolean;
    } = {},
  ): DockerProvisionRequest & { token: string } {
    const token = rememberSecret(`agent-token-${randomBytes(16).toString('hex')}`);
    tokens.push(token);
    return {
      token,
      workspace: {
        id: workspaceId,
        name: `ws${workspaceId.slice(0, 8)}`,
        ownerUsername: owner.username,
        ownerId: owner.id,
      },
      buildId: randomUUID(),
      transition,
      resources: {
        image,
        env: { WARREN_PROOF: `proof-${workspaceId}` },
        volumes: [],
        network: 'host',
        ...options.resources,
      },
      agent: {
        token: new Secret(token),
        daemonUrl: agentBase,
        binaryUrl: options.binaryUrl ?? `${agentBase}/bin/warren-agent.mjs`,
      },
      previousState: options.previous ?? null,
      orphan: options.orphan ?? false,
    };
  }

  const log: BuildLog = (line, level = 'info') => buildLog.push(`${level}: ${line}`);
  const apply = (req: DockerProvisionRequest) => provisioner.apply(req, log, new AbortController().signal);
  const byWorkspace = (id: string) => ({ label: [`${WARREN_LABELS.workspaceId}=${id}`] });
  const containersOf = (id: string) => api.listContainers({ all: true, filters: byWorkspace(id) });
  const volumesOf = async (id: string) => (await api.listVolumes({ filters: byWorkspace(id) })).Volumes ?? [];

  async function homeFile(containerId: string, file: string): Promise<string | undefined> {
    const { stdout } = await run('docker', ['exec', containerId, 'cat', `/home/${file}`]);
    return stdout === '' ? undefined : stdout;
  }

  beforeAll(async () => {
    image = await ensureTestImage();
    agentServer = await serveAgent();
    agentBase = `http://127.0.0.1:${(agentServer.address() as AddressInfo).port}`;
  }, 600_000);

  afterAll(async () => {
    agentServer?.close();
    const ours = { label: [`${WARREN_LABELS.ownerId}=${owner.id}`] };
    const lines = [...buildLog];
    for (const c of await api.listContainers({ all: true, filters: ours })) {
      const { stdout, stderr } = await run('docker', ['logs', c.Id]).catch(() => ({
        stdout: '',
        stderr: '',
      }));
      lines.push(`container ${c.Names[0]}:`, stdout, stderr);
      await api.getContainer(c.Id).remove({ force: true, v: true });
    }
    for (const v of (await api.listVolumes({ filters: ours })).Volumes ?? [])
      await api.getVolume(v.Name).remove();
    // The build log joins the log scan, which proves no agent token was written to it.
    fs.mkdirSync(path.join(ARTIFACTS_DIR, 'logs'), { recursive: true });
    fs.writeFileSync(
      path.join(ARTIFACTS_DIR, 'logs', `docker-provisioner-${owner.username}.log`),
      lines.join('\n'),
    );
  }, 120_000);

  it('start creates a labelled container and home volume with the limits applied, and runs the agent', async () => {
    const id = randomUUID();
    const req = request(id, 'start', {
      resources: { cpus: 0.5, memoryMiB: 256, volumes: [{ name: 'cache', path: '/cache' }] },
    });
    const began = Date.now();
    const state = await apply(req);
    const running = Date.now() - began;
    const proof = await waitFor('the agent to write its proof', () =>
      homeFile(state.containerId ?? '', 'warren-proof'),
    );
    console.log(
      `docker: create→running container ${running} ms, create→agent running ${Date.now() - began} ms`,
    );

    expect(proof.trim()).toBe(`proof-${id} ${sha256(req.token)}`);
    const info = await api.getContainer(state.containerId ?? '').inspect();
    expect(info.Name).toBe(`/${containerName(req.workspace)}`);
    expect(info.State.Running).toBe(true);
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);
    expect(info.HostConfig.Memory).toBe(256 * 1024 * 1024);
    expect(info.HostConfig.NetworkMode).toBe('host');
    expect(info.Config.Labels).toMatchObject({
      [WARREN_LABELS.managed]: 'true',
      [WARREN_LABELS.workspaceId]: id,
      [WARREN_LABELS.ownerId]: owner.id,
      [WARREN_LABELS.owner]: owner.username,
      [WARREN_LABELS.workspaceName]: req.workspace.name,
    });
    expect(info.Mounts.map((m) => [m.Name, m.Destination]).sort()).toEqual([
      [`warren-${id}-cache`, '/cache'],
      [homeVolumeName(id), '/home'],
    ]);
    const volume = await api.getVolume(homeVolumeName(id)).inspect();
    expect(volume.Labels).toMatchObject({ [WARREN_LABELS.workspaceId]: id, [WARREN_LABELS.managed]: 'true' });
    expect(state).toEqual({
      containerId: info.Id,
      containerName: containerName(req.workspace),
      volumes: [homeVolumeName(id), `warren-${id}-cache`],
    });
  }, 120_000);

  it('a file in /home survives stop and start, in a new container with the new token', async () => {
    const id = randomUUID();
    const first = await apply(request(id, 'start'));
    await waitFor('the agent', () => homeFile(first.containerId ?? '', 'warren-proof'));
    await run('docker', ['exec', first.containerId ?? '', 'sh', '-c', 'echo kept > /home/notes.txt']);

    const stopped = await apply(request(id, 'stop', { previous: first }));
    expect(await containersOf(id)).toEqual([]);
    expect((await volumesOf(id)).map((v) => v.Name)).toEqual([homeVolumeName(id)]);
    expect(stopped).toEqual({ containerId: null, containerName: null, volumes: [homeVolumeName(id)] });

    const again = request(id, 'start', { previous: stopped });
    const second = await apply(again);
    expect(second.containerId).not.toBe(first.containerId);
    const proof = await waitFor('the agent to boot again', async () => {
      const text = await homeFile(second.containerId ?? '', 'warren-proof');
      return text?.trim().split('\n').length === 2 ? text : undefined;
    });
    expect(proof.trim().split('\n')[1]).toBe(`proof-${id} ${sha256(again.token)}`);
    expect(await homeFile(second.containerId ?? '', 'notes.txt')).toBe('kept\n');
  }, 120_000);

  it('start again replaces the running container instead of adding one', async () => {
    const id = randomUUID();
    const first = await apply(request(id, 'start'));
    const second = await apply(request(id, 'start', { previous: first }));
    expect((await containersOf(id)).map((c) => c.Id)).toEqual([second.containerId]);
  }, 120_000);

  it('delete removes the container and every volume; stop and delete of a workspace already gone succeed', async () => {
    const id = randomUUID();
    const resources = { volumes: [{ name: 'data', path: '/data' }] };
    const state = await apply(request(id, 'start', { resources }));
    expect(await volumesOf(id)).toHaveLength(2);
    await apply(request(id, 'delete', { resources, previous: state }));
    expect(await containersOf(id)).toEqual([]);
    expect(await volumesOf(id)).toEqual([]);
    await expect(apply(request(id, 'stop'))).resolves.toMatchObject({ containerId: null });
    await expect(apply(request(id, 'delete', { resources }))).resolves.toMatchObject({ volumes: [] });
  }, 120_000);

  it('a missing image fails with a sentence naming it and leaves no container or volume', async () => {
    const id = randomUUID();
    const error = await apply(
      request(id, 'start', { resources: { image: 'warren-test-missing:nope' } }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(WarrenError);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/^The image warren-test-missing:nope is not on the Docker host/);
    expect(await containersOf(id)).toEqual([]);
    expect(await volumesOf(id)).toEqual([]);
  });

  it('an image without sh fails with a sentence saying what the image needs, and leaves nothing', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-nosh-'));
    fs.mkdirSync(path.join(root, 'etc'));
    fs.writeFileSync(path.join(root, 'etc', 'hostname'), 'empty\n');
    const tarball = `${root}.tar`;
    await run('tar', ['-C', root, '-cf', tarball, '.']);
    await run('docker', ['import', tarball, 'warren-test-nosh:latest']);
    fs.rmSync(root, { recursive: true });
    fs.rmSync(tarball);
    const id = randomUUID();
    try {
      const error = await apply(
        request(id, 'start', { resources: { image: 'warren-test-nosh:latest' } }),
      ).catch((e) => e);
      expect(error.code, error.message).toBe('INVALID_INPUT');
      expect(error.message).toMatch(
        /^The container \S+ exited with code \d+ before the agent download began/,
      );
      expect(error.message).toContain(
        "The image warren-test-nosh:latest needs sh and node on its PATH for Warren's init script.",
      );
      expect(await containersOf(id)).toEqual([]);
      expect(await volumesOf(id)).toEqual([]);
    } finally {
      await api.getImage('warren-test-nosh:latest').remove();
    }
  }, 60_000);

  it('a start that Docker refuses midway removes the volumes it created', async () => {
    const id = randomUUID();
    const req = request(id, 'start');
    // Someone else's container already holds the name this workspace's container needs.
    const squatter = await api.createContainer({
      name: containerName(req.workspace),
      Image: image,
      Labels: { [WARREN_LABELS.ownerId]: owner.id },
    });
    try {
      const error = await apply(req).catch((e) => e);
      expect(error.code).toBe('CONFLICT');
      expect(error.message).toContain(`A container named ${containerName(req.workspace)} already exists`);
      expect(await volumesOf(id)).toEqual([]);
      expect(buildLog.some((l) => l.includes(`Removed the volume ${homeVolumeName(id)}`))).toBe(true);
    } finally {
      await squatter.remove({ force: true });
    }
  }, 60_000);

  it('a start canceled midway removes what it created', async () => {
    const id = randomUUID();
    const cancel = new AbortController();
    const error = await provisioner
      .apply(
        request(id, 'start'),
        (line) => {
          if (line.startsWith('Created volume')) cancel.abort();
        },
        cancel.signal,
      )
      .catch((e) => e);
    expect(error.message).toBe('The build was canceled before the workspace started.');
    expect(await containersOf(id)).toEqual([]);
    expect(await volumesOf(id)).toEqual([]);
  });

  it('an unreachable Docker Engine fails with UNAVAILABLE naming the address', async () => {
    const closed = await serveAgent();
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `tcp://127.0.0.1:${port}`;
    let fromEnv: DockerProvisioner;
    try {
      fromEnv = new DockerProvisioner();
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
    const signal = new AbortController().signal;
    const error = await fromEnv.apply(request(randomUUID(), 'start'), log, signal).catch((e) => e);
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toBe(
      `Cannot reach the Docker Engine at tcp://127.0.0.1:${port}: the connection was refused (is the Docker Engine running?).`,
    );

    const noSocket = new DockerProvisioner({ host: 'unix:///nonexistent/docker.sock' });
    const stop = await noSocket.apply(request(randomUUID(), 'stop'), log, signal).catch((e) => e);
    expect(stop.message).toBe(
      'Cannot reach the Docker Engine at unix:///nonexistent/docker.sock: there is no socket there (is the Docker Engine running?).',
    );
    const warnings: string[] = [];
    const orphan = await noSocket.apply(
      request(randomUUID(), 'delete', { orphan: true }),
      (l, level) => {
        if (level === 'warn') warnings.push(l);
      },
      signal,
    );
    expect(orphan).toEqual({ containerId: null, containerName: null, volumes: [] });
    expect(warnings[0]).toMatch(/^Cannot reach the Docker Engine at unix:\/\/\/nonexistent\/docker\.sock/);
  });

  it('the init script waits for the daemon to answer before it runs the agent', async () => {
    const placeholder = await serveAgent();
    const port = (placeholder.address() as AddressInfo).port;
    await new Promise((resolve) => placeholder.close(resolve));
    const id = randomUUID();
    const state = await apply(
      request(id, 'start', { binaryUrl: `http://127.0.0.1:${port}/bin/warren-agent.mjs` }),
    );
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await homeFile(state.containerId ?? '', 'warren-proof').catch(() => undefined)).toBeUndefined();
    const late = await serveAgent(port);
    try {
      await waitFor('the agent after the daemon came up', () =>
        homeFile(state.containerId ?? '', 'warren-proof'),
      );
    } finally {
      late.close();
    }
  }, 120_000);

  it('no container carries the agent token in its command, entrypoint or labels', {
    timeout: 60_000,
  }, async () => {
    await apply(request(randomUUID(), 'start'));
    const ours = await api.listContainers({
      all: true,
      filters: { label: [`${WARREN_LABELS.ownerId}=${owner.id}`] },
    });
    for (const c of ours) {
      const info = await api.getContainer(c.Id).inspect();
      const visible = JSON.stringify([
        info.Path,
        info.Args,
        info.Config.Cmd,
        info.Config.Entrypoint,
        info.Config.Labels,
      ]);
      for (const token of tokens) expect(visible).not.toContain(token);
      expect(info.Config.Env).toContainEqual(expect.stringMatching(/^WARREN_AGENT_TOKEN=agent-token-/));
    }
  });
});
