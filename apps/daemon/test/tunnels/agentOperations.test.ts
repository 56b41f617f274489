import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../harness';
import { ensureAgentBuilt, settle, waitFor } from '../workspaceHelpers';

/** The chat loop's tools go daemon -> agent socket -> the agent's operations, in a real workspace. */
describe('operations run by a workspace agent for the daemon', () => {
  let t: TestDaemon;
  let token: string;
  let workspaceId: string;
  const call = (op: string, params: unknown, timeoutMs?: number) =>
    t.daemon.services.agentRpc.call(workspaceId, op, params, { timeoutMs });

  beforeAll(async () => {
    ensureAgentBuilt();
    t = await startTestDaemon('sqlite');
    token = (await t.setupOwner()).token;
    await t
      .client(token)
      .workspaces.create.mutate({ name: 'ops', template: 'local', parameters: { file_server: false } });
    workspaceId = (await settle(t.client(token), 'ops', 'running', 60_000)).id;
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('writes, edits and reads a file in the workspace, with clear errors for no match and several matches', async () => {
    await call('writeFile', { path: 'src/app.js', content: 'let a = 1;\nlet b = 1;\n', createDirs: true });
    await expect(call('editFile', { path: 'src/app.js', oldText: 'let c', newText: 'x' })).rejects.toThrow(
      /oldText was not found in .*app\.js/,
    );
    await expect(call('editFile', { path: 'src/app.js', oldText: '= 1;', newText: '= 2;' })).rejects.toThrow(
      /matches 2 places in .*app\.js \(lines 1, 2\)/,
    );
    await call('editFile', { path: 'src/app.js', oldText: 'let b = 1;', newText: 'let b = 2;' });
    const read = (await call('readFile', { path: 'src/app.js' })) as { content: string };
    expect(read.content).toContain('let b = 2;');
    const ran = (await call('exec', { command: 'cat src/app.js | wc -l; exit 3' })) as {
      stdout: string;
      exitCode: number;
    };
    expect(ran.stdout.trim()).toBe('2');
    expect(ran.exitCode).toBe(3);
  });

  it('an exec that runs past its timeout is stopped and says so', async () => {
    const began = Date.now();
    const result = (await call('exec', { command: 'echo started; sleep 30', timeoutMs: 500 }, 10_000)) as {
      timedOut: boolean;
      stdout: string;
    };
    expect(result.timedOut).toBe(true);
    expect(result.stdout).toContain('started');
    expect(Date.now() - began).toBeLessThan(5000);
  });

  it('workspaces.agentInfo shows a port a process in the workspace listens on, and the machine’s resources', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    await call('exec', {
      command: `nohup node -e "require('net').createServer().listen(${port}, '127.0.0.1')" >/dev/null 2>&1 &`,
    });
    const info = await waitFor('the port to show', async () => {
      const found = await t.client(token).workspaces.agentInfo.query({ name: 'ops' });
      return found.ports?.some((p) => p.port === port) ? found : undefined;
    });
    expect(info.connected).toBe(true);
    expect(info.stats?.memoryTotalBytes).toBeGreaterThan(0);
    await call('exec', { command: `pkill -f "listen\\(${port}" || true` });
  });

  it('workspaces.agentInfo shows the template’s metadata values and its apps’ health', async () => {
    const info = await waitFor('metadata from the agent', async () => {
      const found = await t.client(token).workspaces.agentInfo.query({ name: 'ops' });
      return found.metadata.some((m) => m.key === 'load_average') ? found : undefined;
    });
    const load = info.metadata.find((m) => m.key === 'load_average');
    expect(load?.value).toMatch(/^\d+\.\d+ \d+\.\d+ \d+\.\d+$/);
    expect(load?.error).toBeUndefined();
    // file_server is off, so this workspace serves nothing on port 8000; the app is healthy only
    // if something else on this host answers there (local workspaces share the host's network).
    const files = info.apps.find((a) => a.slug === 'files');
    const answered = await fetch('http://127.0.0.1:8000/').then(
      () => true,
      () => false,
    );
    expect(files?.health).toMatch(answered ? /^(initializing|healthy)$/ : /^(initializing|unhealthy)$/);
  });

  it('a call to a workspace whose agent is gone fails at once with a sentence', async () => {
    await t.client(token).workspaces.stop.mutate({ name: 'ops' });
    await settle(t.client(token), 'ops', 'stopped', 60_000);
    await expect(call('stats', {})).rejects.toThrow(/agent is not connected; start the workspace/);
    const info = await t.client(token).workspaces.agentInfo.query({ name: 'ops' });
    expect(info).toMatchObject({
      connected: false,
      ports: null,
      stats: null,
      metadata: [],
      apps: [],
      openTunnels: 0,
    });
  });
});
