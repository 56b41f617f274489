import { Writable } from 'node:stream';
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Header and field paths that carry credentials; pino replaces them before a line is written. */
const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.secret',
  '*.apiKey',
];

/** A small human-readable line format, so the default needs no extra worker or dependency. */
function textStream(out: NodeJS.WritableStream): DestinationStream {
  const names: Record<number, string> = {
    10: 'TRACE',
    20: 'DEBUG',
    30: 'INFO',
    40: 'WARN',
    50: 'ERROR',
    60: 'FATAL',
  };
  return new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) {
        if (!line) continue;
        try {
          const { level, time, msg, pid: _pid, hostname: _host, ...rest } = JSON.parse(line);
          const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
          out.write(`${new Date(time).toISOString()} ${names[level] ?? level} ${msg ?? ''}${extra}\n`);
        } catch {
          out.write(`${line}\n`);
        }
      }
      done();
    },
  });
}

export function createLogger(options: {
  level: string;
  format: 'json' | 'text';
  destination?: NodeJS.WritableStream;
}): Logger {
  const out = options.destination ?? process.stdout;
  const stream = options.format === 'text' ? textStream(out) : (out as DestinationStream);
  return pino({ level: options.level, redact: { paths: redactPaths, censor: '[redacted]' } }, stream);
}
