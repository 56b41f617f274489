import type { Writable } from 'node:stream';
import { REDACTED, redact } from '@warren/core';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A value that must never be written, wherever it turns up (a token echoed in an error). */
  hide?(value: string): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Bearer headers and Warren-looking tokens inside free text (an upstream error message, a URL). */
const TOKEN_IN_TEXT = /(bearer\s+)[^\s"',;]+|([?&](?:token|api[_-]?key)=)[^&\s"']+/gi;

/**
 * The desktop's JSON-lines log (main.log in the logs dir). Fields pass through core's `redact`
 * (secret-named keys and Secret values become [redacted]); text is scrubbed of bearer tokens and
 * of every token the desktop holds, registered with `hide`, in case an error message echoes one.
 */
export class DesktopLog implements Logger {
  readonly #hidden = new Set<string>();

  constructor(
    private readonly out: Writable,
    private readonly level: LogLevel = 'info',
  ) {}

  /** A value that must never appear in the log, whatever field or message it turns up in. */
  hide(value: string): void {
    if (value.length >= 8) this.#hidden.add(value);
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.#write('debug', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.#write('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.#write('warn', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.#write('error', message, fields);
  }

  #write(level: LogLevel, message: string, fields: Record<string, unknown> | undefined): void {
    if (ORDER[level] < ORDER[this.level]) return;
    const entry = {
      time: new Date().toISOString(),
      level,
      msg: message,
      ...(redact(fields ?? {}) as object),
    };
    this.out.write(`${this.#scrub(JSON.stringify(entry))}\n`);
  }

  #scrub(text: string): string {
    let out = text.replace(
      TOKEN_IN_TEXT,
      (_match, bearer?: string, query?: string) => `${bearer ?? query}${REDACTED}`,
    );
    for (const secret of this.#hidden) out = out.split(secret).join(REDACTED);
    return out;
  }
}

/** A logger that drops everything (tests, benches). */
export const silentLog: Logger = { debug() {}, info() {}, warn() {}, error() {} };
