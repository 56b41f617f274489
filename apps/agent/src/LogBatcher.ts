import {
  type AgentLogLine,
  type AgentLogSource,
  MAX_LOG_LINE_CHARS,
  MAX_LOG_LINES_PER_FRAME,
} from '@warren/core';

export interface LogBatcherLimits {
  /** Lines per batch (at most the protocol's limit). */
  maxLines: number;
  /** Encoded bytes per batch, well under the protocol's frame limit. */
  maxBytes: number;
  /** How long the first line of a batch waits for company. */
  delayMs: number;
}

export const defaultBatchLimits: LogBatcherLimits = { maxLines: 500, maxBytes: 512 * 1024, delayMs: 100 };

/** Bytes a line adds to a logs frame: its JSON string (escapes included), as UTF-8, plus the wrapper. */
function encodedSize(line: string): number {
  return Buffer.byteLength(JSON.stringify(line)) + 32;
}

/**
 * Groups log lines into logs frames. One batch holds one source, and a line of another source
 * flushes it first, so lines reach the daemon in the order they were written.
 */
export class LogBatcher {
  #source: AgentLogSource | undefined;
  #lines: AgentLogLine[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly emit: (source: AgentLogSource, lines: AgentLogLine[]) => void,
    private readonly limits: LogBatcherLimits = defaultBatchLimits,
  ) {}

  push(source: AgentLogSource, text: string, time = Date.now()): void {
    const line = text.length > MAX_LOG_LINE_CHARS ? text.slice(0, MAX_LOG_LINE_CHARS) : text;
    const size = encodedSize(line);
    if (this.#source !== source || this.#bytes + size > this.limits.maxBytes) this.flush();
    this.#source = source;
    this.#lines.push({ time, line });
    this.#bytes += size;
    if (this.#lines.length >= Math.min(this.limits.maxLines, MAX_LOG_LINES_PER_FRAME)) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.limits.delayMs);
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const [source, lines] = [this.#source, this.#lines];
    this.#lines = [];
    this.#bytes = 0;
    if (source && lines.length > 0) this.emit(source, lines);
  }
}
