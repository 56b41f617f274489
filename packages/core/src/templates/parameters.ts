import { WarrenError } from '../errors/WarrenError';
import type { ParameterValue, TemplateParameter } from './manifest';

export interface ParameterError {
  parameter: string;
  message: string;
}

export type ResolveParametersResult =
  | { ok: true; values: Record<string, ParameterValue> }
  | { ok: false; errors: ParameterError[] };

/** Longest accepted string (and list item): values end up in env vars, job rows and build logs. */
export const maxParameterValueLength = 10_000;

/**
 * The values a workspace build runs with. On create, `given` plus defaults; on update
 * (`previous` set: the workspace's current values), previous values are kept unless given
 * again, so only parameters new in this version and without a default must be given.
 * Strings are accepted for every type because CLI flags arrive as text ("4", "true", "a,b").
 */
export function resolveParameters(
  params: TemplateParameter[],
  given: Record<string, unknown>,
  options: { previous?: Record<string, ParameterValue> } = {},
): ResolveParametersResult {
  const { previous } = options;
  const errors: ParameterError[] = [];
  const values: Record<string, ParameterValue> = {};
  const declared = new Set(params.map((p) => p.name));

  for (const name of Object.keys(given)) {
    if (!declared.has(name) && given[name] !== undefined) {
      const known = params.length > 0 ? ` Its parameters are: ${[...declared].join(', ')}.` : '';
      errors.push({
        parameter: name,
        message: `Parameter ${name} is not declared by this template.${known}`,
      });
    }
  }

  for (const p of params) {
    const raw = Object.hasOwn(given, p.name) ? given[p.name] : undefined;
    const before = previous !== undefined && Object.hasOwn(previous, p.name) ? previous[p.name] : undefined;
    const fail = (message: string) => errors.push({ parameter: p.name, message });

    if (raw !== undefined) {
      const checked = checkParameterValue(p, raw);
      if (typeof checked === 'string') fail(checked);
      else if (!p.mutable && before !== undefined && !sameValue(checked.value, before))
        fail(`Parameter ${p.name} cannot be changed after the workspace is created.`);
      else values[p.name] = checked.value;
    } else if (before !== undefined) {
      // A new version may have tightened the rules (or changed the type) of a kept value.
      const checked = checkParameterValue(p, before);
      if (typeof checked === 'string') {
        fail(
          p.mutable
            ? `${checked} The workspace's current value is not valid in this version; give a new value.`
            : `${checked} The workspace's value was fixed at creation, so it cannot use this version.`,
        );
      } else values[p.name] = checked.value;
    } else if (p.default !== undefined) {
      values[p.name] = p.default;
    } else {
      fail(
        previous === undefined
          ? `Parameter ${p.name} is required; give a value.`
          : `Parameter ${p.name} is new in this version and has no default; give a value.`,
      );
    }
  }

  return errors.length > 0 ? { ok: false, errors } : { ok: true, values };
}

/** The value as the parameter's type, or a sentence saying what is wrong with it. */
export function checkParameterValue(p: TemplateParameter, raw: unknown): { value: ParameterValue } | string {
  const value = coerce(p, raw);
  if (value === undefined) return `Parameter ${p.name} must be ${typeNoun[p.type]}, not ${describe(raw)}.`;
  const problem = validationProblem(p, value);
  return problem === undefined ? { value } : sentence(`Parameter ${p.name} ${problem}`);
}

const typeNoun = { string: 'text', number: 'a number', bool: 'true or false', list: 'a list of text' };

/** The value as the parameter's type, or undefined when it cannot be read as one. */
function coerce(p: TemplateParameter, raw: unknown): ParameterValue | undefined {
  switch (p.type) {
    case 'string':
      return typeof raw === 'string' ? raw : undefined;
    case 'number':
      if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
      return typeof raw === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(raw)
        ? Number(raw)
        : undefined;
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string' && /^\s*(true|false)\s*$/i.test(raw))
        return raw.trim().toLowerCase() === 'true';
      return undefined;
    case 'list': {
      const list = typeof raw === 'string' ? listFromText(raw) : raw;
      return Array.isArray(list) && list.every((item) => typeof item === 'string') ? list : undefined;
    }
  }
}

/** `a, b` → ["a", "b"]; a JSON array (`["a,b", "c"]`) for items that contain commas. */
function listFromText(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return undefined;
    }
  }
  return trimmed === '' ? [] : trimmed.split(',').map((item) => item.trim());
}

/** The rest of a sentence starting "Parameter x ..." (e.g. "must be at most 16, not 32"), or undefined. */
function validationProblem(p: TemplateParameter, value: ParameterValue): string | undefined {
  if (p.type === 'string' && typeof value === 'string') {
    const v = p.validation;
    if (value.length > maxParameterValueLength)
      return `must be at most ${maxParameterValueLength} characters long`;
    if (v?.options !== undefined && !v.options.includes(value))
      return `must be one of ${v.options.map((o) => JSON.stringify(o)).join(', ')}, not ${JSON.stringify(value)}`;
    if (v?.minLength !== undefined && value.length < v.minLength)
      return `must be at least ${v.minLength} characters long`;
    if (v?.maxLength !== undefined && value.length > v.maxLength)
      return `must be at most ${v.maxLength} characters long`;
    if (v?.regex !== undefined) {
      const regex = compileRegex(v.regex);
      if (regex === undefined) return `has a validation regex that is not valid (${v.regex})`;
      if (!regex.test(value))
        return v.error !== undefined
          ? `is not valid: ${v.error}`
          : `must match ${v.regex}, and ${JSON.stringify(value)} does not`;
    }
    return undefined;
  }
  if (p.type === 'number' && typeof value === 'number') {
    const v = p.validation;
    if (v?.integer === true && !Number.isInteger(value)) return `must be a whole number, not ${value}`;
    if (v?.min !== undefined && value < v.min) return `must be at least ${v.min}, not ${value}`;
    if (v?.max !== undefined && value > v.max) return `must be at most ${v.max}, not ${value}`;
    return undefined;
  }
  if (p.type === 'list' && Array.isArray(value)) {
    const v = p.validation;
    if (value.some((item) => item.length > maxParameterValueLength))
      return `has an item longer than ${maxParameterValueLength} characters`;
    if (v?.minItems !== undefined && value.length < v.minItems)
      return `needs at least ${v.minItems} item${v.minItems === 1 ? '' : 's'}, not ${value.length}`;
    if (v?.maxItems !== undefined && value.length > v.maxItems)
      return `takes at most ${v.maxItems} item${v.maxItems === 1 ? '' : 's'}, not ${value.length}`;
    return undefined;
  }
  return undefined;
}

export function compileRegex(source: string): RegExp | undefined {
  try {
    return new RegExp(source);
  } catch {
    return undefined;
  }
}

/**
 * Problems in a parameter's own declaration: a regex that does not compile, bounds that
 * exclude everything, a default its validation rejects. Paths are relative to the parameter.
 */
export function parameterDeclarationProblems(p: TemplateParameter): { path: string[]; message: string }[] {
  const problems: { path: string[]; message: string }[] = [];
  const bounds = (lower: string, upper: string, low: number | undefined, high: number | undefined) => {
    if (low !== undefined && high !== undefined && low > high)
      problems.push({
        path: ['validation', lower],
        message: `"${lower}" (${low}) is greater than "${upper}" (${high}).`,
      });
  };
  if (p.type === 'string') {
    if (p.validation?.regex !== undefined && compileRegex(p.validation.regex) === undefined)
      problems.push({ path: ['validation', 'regex'], message: `"regex" is not a valid regular expression.` });
    bounds('minLength', 'maxLength', p.validation?.minLength, p.validation?.maxLength);
  } else if (p.type === 'number') bounds('min', 'max', p.validation?.min, p.validation?.max);
  else if (p.type === 'list') bounds('minItems', 'maxItems', p.validation?.minItems, p.validation?.maxItems);

  if (problems.length === 0 && p.default !== undefined) {
    const problem = validationProblem(p, p.default);
    if (problem !== undefined)
      problems.push({ path: ['default'], message: sentence(`The default ${problem}`) });
  }
  return problems;
}

/** Ends with one full stop, whether or not the template author's own words brought one. */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function sameValue(a: ParameterValue, b: ParameterValue): boolean {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, i) => item === b[i]);
  return a === b;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** `{{ name }}`; anything between the braces is taken as a name so typos are reported, not kept. */
const placeholderPattern = /\{\{(.*?)\}\}/g;

/** Every `{{ name }}` in the strings of `value`, with the path to the string that holds it. */
export function findPlaceholders(
  value: unknown,
  path: (string | number)[] = [],
): { path: (string | number)[]; name: string }[] {
  if (typeof value === 'string')
    return [...value.matchAll(placeholderPattern)].map((m) => ({ path, name: (m[1] ?? '').trim() }));
  if (Array.isArray(value)) return value.flatMap((item, i) => findPlaceholders(item, [...path, i]));
  if (isPlainObject(value))
    return Object.entries(value).flatMap(([key, item]) => findPlaceholders(item, [...path, key]));
  return [];
}

/** The text a value takes inside a string: lists are joined with ",". */
export function parameterText(value: ParameterValue): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

/**
 * Replaces `{{ name }}` in every string of `value` (deeply; keys are left alone) with the
 * parameter's value as text. Throws INVALID_INPUT naming every unknown parameter.
 */
export function interpolate<T>(value: T, values: Record<string, ParameterValue>): T {
  const unknown = [
    ...new Set(findPlaceholders(value).flatMap(({ name }) => (Object.hasOwn(values, name) ? [] : [name]))),
  ];
  if (unknown.length > 0) {
    const names = unknown.map((name) => `"${name}"`).join(', ');
    throw new WarrenError(
      'INVALID_INPUT',
      `The template refers to ${unknown.length === 1 ? 'a parameter that does not exist' : 'parameters that do not exist'}: ${names}.`,
    );
  }
  return replaceDeep(value, values) as T;
}

function replaceDeep(value: unknown, values: Record<string, ParameterValue>): unknown {
  if (typeof value === 'string')
    return value.replace(placeholderPattern, (_, name: string) =>
      parameterText(values[name.trim()] as ParameterValue),
    );
  if (Array.isArray(value)) return value.map((item) => replaceDeep(item, values));
  if (isPlainObject(value))
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, replaceDeep(item, values)]));
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
