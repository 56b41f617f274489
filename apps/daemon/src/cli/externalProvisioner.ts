import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Secret, WarrenError } from '@warren/core';
import { resolveAgentBinaryPath } from '../agents/agentBinaryPlugin';
import { BuildRunner } from '../builds/BuildRunner';
import { createLogger } from '../log/logger';
import { DockerProvisioner } from '../provisioners/docker/DockerProvisioner';
import { LocalProvisioner } from '../provisioners/local/LocalProvisioner';
import { ApiJobSource } from './ApiJobSource';
import { createProvisionerClient } from './apiClient';

export interface ExternalProvisionerOptions {
  url: string;
  key: Secret;
  concurrency: number;
  /** Where local workspaces' directories go. */
  dataDir: string;
  logLevel: string;
}

const POLL_MS = 1000;

/**
 * `warren provisioner start`: the built-in BuildRunner with the local and docker
 * provisioners, fed from the server's queue over the API. Loaded only by that command, so
 * other commands start without the provisioners. Resolves after SIGTERM or SIGINT once the
 * running builds have finished; rejects if the server refuses the key.
 */
export async function runExternalProvisioner(options: ExternalProvisionerOptions): Promise<void> {
  const log = createLogger({ level: options.logLevel, format: 'text' });
  // The server's lease; the runner renews at a third of it.
  const leaseMs = Number(process.env.WARREN_PROVISIONER_LEASE_MS ?? 30_000);
  const agentBinaryPath = resolveAgentBinaryPath();
  if (!existsSync(agentBinaryPath)) {
    log.warn(
      { agentBinaryPath },
      'the agent bundle is missing, so local workspaces cannot start; set WARREN_AGENT_BINARY',
    );
  }

  let refused: WarrenError | undefined;
  let wake: () => void = () => {};
  const stopRequested = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const instanceId = randomUUID();
  const source = new ApiJobSource(
    createProvisionerClient(options.url, options.key),
    instanceId,
    log,
    (error) => {
      refused ??= error;
      wake();
    },
  );
  const runner = new BuildRunner(
    source,
    {
      local: new LocalProvisioner({ dataDir: options.dataDir, agentBinaryPath }),
      docker: new DockerProvisioner(),
    },
    { leaseMs, concurrency: options.concurrency, pollMs: POLL_MS },
    log,
  );

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      log.warn({ signal }, 'forced exit: running builds are left to their leases');
      process.exit(1);
    }
    log.info({ signal, running: runner.busy }, 'stopping: taking no more jobs, finishing the running ones');
    wake();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  runner.start();
  log.info(
    { instance: instanceId, concurrency: options.concurrency, dataDir: options.dataDir },
    `provisioner is taking jobs from ${options.url}; Ctrl-C stops it after the running builds finish`,
  );
  await stopRequested;
  await runner.stop();
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  if (refused) throw refused;
  log.info('provisioner stopped');
}
