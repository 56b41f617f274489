import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor as waitUntil } from '@warren/core/test-support/waitFor';
import type { TestDaemon } from './harness';

export const agentBundle = path.resolve(import.meta.dirname, '..', '..', 'agent', 'dist', 'warren-agent.mjs');

/** The workspace agent bundle that provisioners start; built once if a plain vitest run lacks it. */
export function ensureAgentBuilt(): void {
  if (!fs.existsSync(agentBundle)) {
    execFileSync(process.execPath, ['build.mjs'], {
      cwd: path.resolve(import.meta.dirname, '..', '..', 'agent'),
    });
  }
}

/** Polls until `check` returns a value; a failed build ends the wait at once. */
export function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  return waitUntil(what, check, timeoutMs, (error) => error.message.startsWith('build failed'));
}

/** Waits until the workspace reaches `status` (and, for running, its agent is ready); fails fast on a failed build. */
export async function settle(
  client: ReturnType<TestDaemon['client']>,
  name: string,
  status: string,
  timeoutMs = 20_000,
) {
  return waitFor(
    `workspace ${name} to be ${status}`,
    async () => {
      const ws = await client.workspaces.get.query({ name });
      if (ws.status === 'failed' && status !== 'failed')
        throw new Error(`build failed: ${ws.latestBuild.error}`);
      return ws.status === status && (status !== 'running' || ws.agent?.lifecycle === 'ready')
        ? ws
        : undefined;
    },
    timeoutMs,
  );
}
