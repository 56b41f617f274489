import { splitWorkspaceRef, WarrenError, workspaceRefInput } from '@warren/core';
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

/**
 * For a repeatable commander option such as `--param region=eu --param size=4`: each use adds
 * one pair. The value may contain "=" (only the first one splits).
 */
export function keyValue(raw: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('Write it as NAME=VALUE.');
  const key = raw.slice(0, eq).trim();
  if (Object.hasOwn(previous, key)) throw new InvalidArgumentError(`${key} is given twice.`);
  return { ...previous, [key]: raw.slice(eq + 1) };
}

const minutesPerUnit: Record<string, number> = { m: 1, h: 60, d: 1440 };

/** For commander's argParser: "30m", "8h", "1d" as minutes; "0" turns autostop off. */
export function autostopMinutes(raw: string): number {
  const value = raw.trim();
  if (value === '0') return 0;
  const match = /^(\d+)([mhd])$/.exec(value);
  if (!match) throw new InvalidArgumentError('Use a duration such as 30m, 8h or 1d, or 0 for never.');
  return Number(match[1]) * (minutesPerUnit[match[2] ?? 'm'] ?? 1);
}

/** A workspace argument: `name` (yours) or `owner/name`, checked like the API checks it. */
export function workspaceRef(raw: string): { owner?: string; name: string } {
  return parseFlags(workspaceRefInput, splitWorkspaceRef(raw));
}
