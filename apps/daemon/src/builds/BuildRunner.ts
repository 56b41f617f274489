import { WarrenError } from '@warren/core';
import type { Logger } from '../log/logger';
import type { BuildLog, Provisioner } from '../provisioners/Provisioner';
import type { BuildOutcome, PreparedBuild } from './BuildService';

/**
 * Where a runner gets work and reports back: the daemon's own queue, or the daemon's API for
 * an external `warren provisioner start`.
 */
export interface JobSource {
  acquire(): Promise<PreparedBuild | undefined>;
  renew(jobId: string): Promise<{ owned: boolean; cancel: boolean }>;
  appendLogs(jobId: string, lines: { level: 'info' | 'warn' | 'error'; line: string }[]): Promise<void>;
  complete(jobId: string, outcome: BuildOutcome): Promise<void>;
  /** Resolves when new work may be there (or after the poll interval). */
  waitForWork(ms: number, signal: AbortSignal): Promise<void>;
}

export interface RunnerOptions {
  leaseMs: number;
  concurrency: number;
  pollMs: number;
}

/** Takes build jobs, runs them on the matching provisioner under a renewed lease, reports. */
export class BuildRunner {
  readonly #running = new Set<Promise<void>>();
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(
    private readonly source: JobSource,
    private readonly provisioners: Partial<Record<'local' | 'docker', Provisioner<unknown>>>,
    private readonly options: RunnerOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops taking jobs and waits for the running ones (they keep their leases until done). */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    await Promise.allSettled([...this.#running]);
  }

  get busy(): number {
    return this.#running.size;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      let took = false;
      while (!signal.aborted && this.#running.size < this.options.concurrency) {
        let prepared: PreparedBuild | undefined;
        try {
          prepared = await this.source.acquire();
        } catch (error) {
          this.log.warn({ err: error }, 'could not take a provisioner job');
          break;
        }
        if (!prepared) break;
        took = true;
        const task = this.#execute(prepared).finally(() => this.#running.delete(task));
        this.#running.add(task);
      }
      if (!took || this.#running.size >= this.options.concurrency) {
        await this.source.waitForWork(this.options.pollMs, signal).catch(() => {});
      }
    }
  }

  async #execute(job: PreparedBuild): Promise<void> {
    const abort = new AbortController();
    const pending: { level: 'info' | 'warn' | 'error'; line: string }[] = [];
    let flushing: Promise<void> = Promise.resolve();
    const flush = () => {
      const lines = pending.splice(0);
      if (lines.length === 0) return flushing;
      flushing = flushing
        .then(() => this.source.appendLogs(job.jobId, lines))
        .catch((error) => {
          this.log.warn({ err: error, job: job.jobId }, 'could not store build log lines');
        });
      return flushing;
    };
    const log: BuildLog = (line, level = 'info') => {
      for (const part of line.split('\n')) pending.push({ level, line: part });
      if (pending.length >= 50) void flush();
    };
    const flusher = setInterval(() => void flush(), 100);
    const renewer = setInterval(
      () => {
        this.source.renew(job.jobId).then(
          ({ owned, cancel }) => {
            if (!owned || cancel)
              abort.abort(
                new WarrenError('CONFLICT', owned ? 'The build was canceled.' : 'The job lease was lost.'),
              );
          },
          (error) => this.log.warn({ err: error, job: job.jobId }, 'could not renew a job lease'),
        );
      },
      Math.max(200, Math.floor(this.options.leaseMs / 3)),
    );

    let outcome: BuildOutcome;
    const provisioner = this.provisioners[job.provisionerType];
    try {
      if (!provisioner) {
        throw new WarrenError(
          'UNAVAILABLE',
          `This provisioner cannot run "${job.provisionerType}" workspaces.`,
        );
      }
      log(
        `Build ${job.request.transition} of ${job.request.workspace.ownerUsername}/${job.request.workspace.name} on the ${job.provisionerType} provisioner`,
      );
      const state = await provisioner.apply(job.request, log, abort.signal);
      if (abort.signal.aborted) throw abort.signal.reason;
      log(`Build ${job.request.transition} succeeded.`);
      outcome = { status: 'succeeded', state };
    } catch (error) {
      const canceled = abort.signal.aborted;
      const message =
        error instanceof WarrenError
          ? error.message
          : `Unexpected provisioner error: ${(error as Error).message}`;
      if (!(error instanceof WarrenError))
        this.log.error({ err: error, job: job.jobId }, 'provisioner failed');
      log(canceled ? 'Build canceled.' : `Build failed: ${message}`, canceled ? 'warn' : 'error');
      outcome = canceled
        ? { status: 'canceled', error: 'The build was canceled.' }
        : { status: 'failed', error: message };
    } finally {
      clearInterval(renewer);
      clearInterval(flusher);
    }
    await flush();
    try {
      await this.source.complete(job.jobId, outcome);
    } catch (error) {
      // The lease lapses and recovery retries or fails the job: nothing is left claiming to run.
      this.log.error({ err: error, job: job.jobId }, 'could not record a build outcome');
    }
  }
}
