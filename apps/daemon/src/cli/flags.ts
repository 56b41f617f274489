import { WarrenError } from '@warren/core';
import { InvalidArgumentError } from 'commander';
import type { z } from 'zod';

/** CLI flags cross the same zod schema the API uses, so a bad flag fails before any request. */
export function parseFlags<S extends z.ZodType>(schema: S, value: z.input<S>): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const messages = result.error.issues.slice(0, 3).map((issue) => issue.message);
  throw new WarrenError('INVALID_INPUT', messages.join(' '));
}

/** For commander's argParser: a positive whole number. */
export function positiveInteger(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw new InvalidArgumentError('Expected a positive whole number.');
  return Number(raw);
}

const secondsPerUnit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** For commander's argParser: "30d", "12h", "90m", "3600s" (a bare number is seconds). */
export function lifetimeSeconds(raw: string): number {
  const match = /^(\d+)([smhdw]?)$/.exec(raw.trim());
  if (!match) throw new InvalidArgumentError('Use a number with a unit: 3600s, 90m, 12h, 30d or 4w.');
  return Number(match[1]) * (secondsPerUnit[match[2] || 's'] ?? 1);
}
