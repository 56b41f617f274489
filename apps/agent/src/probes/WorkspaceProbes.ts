import {
  type AgentManifestFrame,
  type AgentStatusFrame,
  type AppHealth,
  durationMs,
  MAX_METADATA_VALUE_CHARS,
  parseAgentOperationParams,
} from '@warren/core';
import { exec } from '../operations/exec';

type MetadataValue = AgentStatusFrame['metadata'][number];
/** A health check that takes longer than this failed. */
const HEALTHCHECK_TIMEOUT_MS = 5000;
/** Reports are coalesced: at most one per this interval. */
const REPORT_DELAY_MS = 500;

/**
 * The template's metadata scripts and its apps' health checks, each on its own interval. The
 * agent reports what changed (metadata values, app health) to the daemon, which shows it on the
 * workspace page. An app becomes unhealthy after `threshold` failures in a row.
 */
export class WorkspaceProbes {
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #metadata = new Map<string, MetadataValue>();
  readonly #apps = new Map<string, AppHealth>();
  readonly #failures = new Map<string, number>();
  #reportTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly root: string,
    private readonly report: (status: AgentStatusFrame) => void,
  ) {}

  /** Starts (or restarts, on a new manifest) every probe. */
  start(manifest: AgentManifestFrame): void {
    this.stop();
    this.#stopped = false;
    this.#metadata.clear();
    this.#apps.clear();
    for (const item of manifest.metadata) {
      // A script slower than its interval is not started again until the last run ended.
      let running = false;
      const run = () => {
        if (running) return;
        running = true;
        void this.#collect(item.key, item.script, durationMs(item.timeout)).finally(() => {
          running = false;
        });
      };
      run();
      this.#timers.push(setInterval(run, Math.max(1000, durationMs(item.interval))));
    }
    for (const app of manifest.apps) {
      if (!app.healthcheck) {
        this.#apps.set(app.slug, 'disabled');
        continue;
      }
      const { url, interval, threshold } = app.healthcheck;
      this.#apps.set(app.slug, 'initializing');
      let checking = false;
      const check = () => {
        if (checking) return;
        checking = true;
        void this.#check(app.slug, url, threshold).finally(() => {
          checking = false;
        });
      };
      check();
      this.#timers.push(setInterval(check, Math.max(1000, durationMs(interval))));
    }
    this.#scheduleReport();
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
    clearTimeout(this.#reportTimer);
    this.#reportTimer = undefined;
  }

  /** The current values, for a reconnect (the daemon keeps them only in memory). */
  snapshot(): AgentStatusFrame {
    return {
      type: 'status',
      metadata: [...this.#metadata.values()],
      apps: [...this.#apps].map(([slug, health]) => ({ slug, health })),
    };
  }

  async #collect(key: string, script: string, timeoutMs: number): Promise<void> {
    const result = await exec(
      parseAgentOperationParams('exec', { command: script, timeoutMs, maxOutputBytes: 4096 }),
      { root: this.root },
    ).catch((error: Error) => ({ exitCode: null, timedOut: false, stdout: '', stderr: error.message }));
    const value = clip(result.stdout.trim());
    const failed = result.timedOut || result.exitCode !== 0;
    const error = result.timedOut
      ? `timed out after ${timeoutMs} ms`
      : failed
        ? clip(result.stderr.trim() || `exited with code ${result.exitCode}`)
        : undefined;
    const previous = this.#metadata.get(key);
    this.#metadata.set(key, { key, value, ...(error ? { error } : {}), collectedAt: Date.now() });
    if (previous?.value !== value || previous?.error !== error) this.#scheduleReport();
  }

  async #check(slug: string, url: string, threshold: number): Promise<void> {
    let ok = false;
    try {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(HEALTHCHECK_TIMEOUT_MS),
        redirect: 'manual',
      });
      await response.body?.cancel();
      ok = response.status < 500;
    } catch {
      ok = false;
    }
    const failures = ok ? 0 : (this.#failures.get(slug) ?? 0) + 1;
    this.#failures.set(slug, failures);
    const previous = this.#apps.get(slug);
    const next: AppHealth = ok
      ? 'healthy'
      : failures >= threshold
        ? 'unhealthy'
        : (previous ?? 'initializing');
    this.#apps.set(slug, next);
    if (next !== previous) this.#scheduleReport();
  }

  #scheduleReport(): void {
    if (this.#stopped || this.#reportTimer) return;
    this.#reportTimer = setTimeout(() => {
      this.#reportTimer = undefined;
      if (!this.#stopped) this.report(this.snapshot());
    }, REPORT_DELAY_MS);
  }
}

function clip(text: string): string {
  return text.length > MAX_METADATA_VALUE_CHARS ? `${text.slice(0, MAX_METADATA_VALUE_CHARS - 1)}…` : text;
}
