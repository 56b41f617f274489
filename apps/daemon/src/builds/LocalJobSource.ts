import { setTimeout as sleep } from 'node:timers/promises';
import type { EventBus } from '../events/EventBus';
import type { JobSource } from './BuildRunner';
import type { BuildOutcome, BuildService, PreparedBuild } from './BuildService';
import type { JobQueue } from './JobQueue';

/** The daemon's own runner: takes jobs straight from the database queue. */
export class LocalJobSource implements JobSource {
  constructor(
    private readonly queue: JobQueue,
    private readonly builds: BuildService,
    private readonly bus: EventBus,
    private readonly workerId: string,
    private readonly tags: Record<string, string>,
    private readonly leaseMs: number,
  ) {}

  async acquire(): Promise<PreparedBuild | undefined> {
    const job = await this.queue.acquire(this.workerId, this.tags, this.leaseMs);
    if (!job) return undefined;
    try {
      return await this.builds.prepare(job);
    } catch (error) {
      await this.builds.complete(job.id, this.workerId, {
        status: 'failed',
        error: (error as Error).message,
      });
      return undefined;
    }
  }

  renew(jobId: string) {
    return this.queue.renew(jobId, this.workerId, this.leaseMs);
  }

  appendLogs(jobId: string, lines: { level: 'info' | 'warn' | 'error'; line: string }[]) {
    return this.queue.appendLogs(jobId, lines);
  }

  async complete(jobId: string, outcome: BuildOutcome): Promise<void> {
    await this.builds.complete(jobId, this.workerId, outcome);
  }

  async waitForWork(ms: number, signal: AbortSignal): Promise<void> {
    const wake = new AbortController();
    const stop = this.bus.listen('jobs:new', () => wake.abort());
    try {
      await sleep(ms, undefined, { signal: AbortSignal.any([signal, wake.signal]) });
    } catch {
      // Woken early: new work, or shutting down.
    } finally {
      stop();
    }
  }
}
