import { setTimeout as sleep } from 'node:timers/promises';
import { Secret, WarrenError } from '@warren/core';
import type { JobSource } from '../builds/BuildRunner';
import type { BuildOutcome, PreparedBuild } from '../builds/BuildService';
import type { Logger } from '../log/logger';
import type { ApiClient } from './apiClient';
import type { AcquiredJob } from './apiTypes';
import { apiErrorCode, describeCliError } from './cliError';

type LogLine = { level: 'info' | 'warn' | 'error'; line: string };

/** What provisionerd.appendLogs takes in one call. */
const MAX_LINES_PER_CALL = 500;
const MAX_LINE_LENGTH = 4096;

/**
 * The daemon's job queue seen from an external provisioner: every call goes over the API,
 * signed with the provisioner key, and names this process so the server knows which holder
 * of the key owns a job.
 */
export class ApiJobSource implements JobSource {
  constructor(
    private readonly client: ApiClient,
    private readonly instanceId: string,
    private readonly log: Logger,
    /** Called when the server refuses the key (revoked, or never valid): nothing will work after. */
    private readonly onRefused: (error: WarrenError) => void,
  ) {}

  async acquire(): Promise<PreparedBuild | undefined> {
    let job: AcquiredJob | null;
    try {
      job = await this.client.provisionerd.acquire.mutate({ instanceId: this.instanceId });
    } catch (error) {
      const code = apiErrorCode(error);
      if (code !== 'UNAUTHORIZED' && code !== 'FORBIDDEN')
        throw new WarrenError('UNAVAILABLE', describeCliError(error).message);
      this.onRefused(new WarrenError(code, describeCliError(error).message));
      return undefined;
    }
    if (!job) return undefined;
    const { workspace, transition } = job.request;
    this.log.info(
      { job: job.jobId, workspace: `${workspace.ownerUsername}/${workspace.name}`, transition },
      `took a ${job.provisionerType} build job`,
    );
    return preparedBuild(job);
  }

  renew(jobId: string): Promise<{ owned: boolean; cancel: boolean }> {
    return this.client.provisionerd.renew.mutate({ jobId, instanceId: this.instanceId });
  }

  async appendLogs(jobId: string, lines: LogLine[]): Promise<void> {
    for (let at = 0; at < lines.length; at += MAX_LINES_PER_CALL) {
      const batch = lines
        .slice(at, at + MAX_LINES_PER_CALL)
        .map((l) => ({ level: l.level, line: l.line.slice(0, MAX_LINE_LENGTH) }));
      await this.client.provisionerd.appendLogs.mutate({ jobId, instanceId: this.instanceId, lines: batch });
    }
  }

  async complete(jobId: string, outcome: BuildOutcome): Promise<void> {
    await this.client.provisionerd.complete.mutate({ jobId, instanceId: this.instanceId, outcome });
    const detail = outcome.status === 'succeeded' ? {} : { error: outcome.error };
    this.log.info({ job: jobId, ...detail }, `build job ${outcome.status}`);
  }

  /** The API has no push for new jobs: polling is the wait. */
  async waitForWork(ms: number, signal: AbortSignal): Promise<void> {
    await sleep(ms, undefined, { signal }).catch(() => {});
  }
}

/**
 * The agent token arrives as text and becomes a Secret at this edge, so the provisioners
 * handle it exactly as the built-in runner's do.
 */
function preparedBuild(job: AcquiredJob): PreparedBuild {
  const request = {
    ...job.request,
    agent: { ...job.request.agent, token: new Secret(job.request.agent.token) },
  };
  // The JSON round trip types `resources` and `previousState` loosely; they are the values the
  // server's BuildService prepared, unchanged.
  return { ...job, request } as PreparedBuild;
}
