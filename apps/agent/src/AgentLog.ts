import type { Secret } from '@warren/core';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * The agent's own log, one line per event on stderr. Every line passes through a filter that
 * replaces the agent token, so an error message quoting a header cannot leak it.
 */
export class AgentLog {
  readonly #secrets: string[];

  constructor(
    secrets: readonly Secret[] = [],
    private readonly out: (line: string) => void = (line) => process.stderr.write(line),
    private readonly debugEnabled = process.env.WARREN_AGENT_DEBUG === '1',
  ) {
    this.#secrets = secrets.map((s) => s.reveal()).filter((s) => s.length >= 8);
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    if (this.debugEnabled) this.write('debug', message, fields);
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.write('info', message, fields);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.write('warn', message, fields);
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.write('error', message, fields);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join('[redacted]');
    return out;
  }

  private write(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    const extra = fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
    this.out(this.redact(`${new Date().toISOString()} ${level.toUpperCase()} ${message}${extra}\n`));
  }
}
