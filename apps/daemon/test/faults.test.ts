import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, rememberSecret } from './harness';
import { ensureCliBuilt, exited, killServerProcesses, startServerProcess } from './serverProcess';
import { ensureAgentBuilt, settle, waitFor } from './workspaceHelpers';

/** Agent processes whose environment points at this workspace's home: there must be one at most. */
function agentsOf(home: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (
        environ.includes(`HOME=${home}`) &&
        !stat.includes(') Z ') &&
        fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('warren-agent')
      ) {
        pids.push(Number(entry));
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

async function owner(url: string) {
  const password = rememberSecret('fault-owner-password');
  await apiClient(url).setup.createFirstUser.mutate({
    username: 'owner',
    email: 'owner@example.com',
    password,
  });
  const { token } = await apiClient(url).auth.login.mutate({ login: 'owner', password, sessionIn: 'body' });
  return apiClient(url, rememberSecret(token ?? ''));
}

const fast = { WARREN_PROVISIONER_LEASE_MS: '1500', WARREN_SCHEDULER_INTERVAL_MS: '300' };

beforeAll(() => {
  ensureCliBuilt();
  ensureAgentBuilt();
}, 120_000);
afterAll(() => killServerProcesses());

describe('faults', () => {
  it('a daemon killed with -9 mid-build finds the job on restart and finishes it, truthfully', async () => {
    const first = await startServerProcess([], fast);
    const client = await owner(first.url);
    await client.workspaces.create.mutate({
      name: 'crash',
      template: 'local',
      parameters: { file_server: false },
    });
    // Kill the daemon while its runner holds the build's job.
    await waitFor(
      'the build to be running',
      async () => {
        const ws = await client.workspaces.get.query({ name: 'crash' });
        return ws.latestBuild.jobStatus === 'running' ? true : undefined;
      },
      10_000,
    );
    first.child.kill('SIGKILL');
    await exited(first.child);

    const second = await startServerProcess([], fast, first.dataDir);
    const again = apiClient(
      second.url,
      (
        await apiClient(second.url).auth.login.mutate({
          login: 'owner',
          password: 'fault-owner-password',
          sessionIn: 'body',
        })
      ).token ?? '',
    );
    const ws = await settle(again, 'crash', 'running', 30_000);
    expect(ws.latestBuild.number).toBe(1);

    const log: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const sub = again.workspaces.logs.subscribe(
        { name: 'crash' },
        {
          onData: (event) => {
            if ('end' in event) {
              sub.unsubscribe();
              resolve();
            } else log.push(event.line);
          },
          onError: reject,
        },
      );
    });
    expect(log.join('\n')).toMatch(/The provisioner running this build stopped; retrying \(attempt 2 of 2\)/);
    // The retry replaced the first attempt's agent: one agent runs for the workspace.
    const home = path.join(first.dataDir, 'workspaces', ws.id, 'home');
    await waitFor('a single agent', () => (agentsOf(home).length === 1 ? true : undefined), 10_000);
    await again.workspaces.delete.mutate({ name: 'crash' });
    await waitFor('the agent to be gone', () => (agentsOf(home).length === 0 ? true : undefined), 15_000);
  }, 90_000);

  it('with Docker unreachable, the build fails with a clear error and a delete with orphan cleans up', async () => {
    const server = await startServerProcess([], { ...fast, DOCKER_HOST: 'tcp://127.0.0.1:1' });
    const client = await owner(server.url);
    await client.workspaces.create.mutate({ name: 'nodocker', template: 'docker' });
    const failed = await settle(client, 'nodocker', 'failed', 30_000);
    expect(failed.latestBuild.error).toMatch(/Cannot reach the Docker Engine at tcp:\/\/127\.0\.0\.1:1/);
    expect(failed.agent?.lifecycle ?? 'off').toBe('off');
    await client.workspaces.delete.mutate({ name: 'nodocker', orphan: true });
    await waitFor('the workspace to be gone', async () =>
      (await client.workspaces.list.query({})).some((w) => w.name === 'nodocker') ? undefined : true,
    );
  }, 60_000);
});
