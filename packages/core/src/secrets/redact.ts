import { REDACTED, Secret } from './Secret';

/** Field names whose values are secrets wherever they appear (audit diffs, logs). */
const SECRET_KEY = /pass(word)?|secret|token|api[-_]?key|authorization|cookie|private[-_]?key|credential/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** A deep copy of `value` with every secret-named field and every Secret replaced by `[redacted]`. */
export function redact(value: unknown, depth = 0): unknown {
  if (value instanceof Secret) return REDACTED;
  if (value === null || typeof value !== 'object') return value;
  // Too deep to inspect: hide it rather than risk a nested secret.
  if (depth > 8) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = isSecretKey(key) && item !== null && item !== undefined ? REDACTED : redact(item, depth + 1);
  }
  return out;
}
