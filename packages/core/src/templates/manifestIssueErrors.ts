import { z } from 'zod';
import { manifestSchema } from './manifest';

/** A schema issue as a sentence naming the field; `pointAtKey` places it on the key, not the value. */
export interface ManifestIssueError {
  path: PropertyKey[];
  message: string;
  pointAtKey: boolean;
}

type Issue = z.core.$ZodIssue;

/** Turns zod's issues for a manifest into sentences an author can act on. */
export function manifestIssueErrors(issues: readonly Issue[], data: unknown): ManifestIssueError[] {
  return issues.flatMap((issue) => issueErrors(issue, [], data));
}

function issueErrors(issue: Issue, prefix: PropertyKey[], data: unknown): ManifestIssueError[] {
  const path = [...prefix, ...issue.path];
  const field = label(path);
  const value = valueAt(data, path);
  const error = (message: string, pointAtKey = false) => [{ path, message, pointAtKey }];

  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return error(`${field} is required.`);
      if (value === null) return error(`${field} is empty; it must be ${typeNoun(issue.expected)}.`);
      return error(`${field} must be ${typeNoun(issue.expected)}, not ${describe(value)}.`);

    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        path: [...path, key],
        message: unknownFieldMessage(key, path, data),
        pointAtKey: true,
      }));

    case 'invalid_union': {
      if (issue.discriminator !== undefined && 'options' in issue && issue.options !== undefined) {
        const choices = orList(issue.options.map((o) => JSON.stringify(o)));
        return value === undefined
          ? error(`${field} is required; use ${choices}.`)
          : error(`${field} cannot be ${describe(value)}; use ${choices}.`);
      }
      // Explain through the branch that got furthest (its issues are not about the value's type).
      const branches = issue.errors;
      const deeper = branches.find((b) => b.some((i) => i.code !== 'invalid_type' || i.path.length > 0));
      if (deeper !== undefined) return deeper.flatMap((i) => issueErrors(i, path, data));
      const expected = branches.flatMap((b) =>
        b.flatMap((i) => (i.code === 'invalid_type' ? [typeNoun(i.expected)] : [])),
      );
      return error(`${field} must be ${orList([...new Set(expected)])}, not ${describe(value)}.`);
    }

    case 'too_small':
    case 'too_big':
      return error(`${field} ${sizeProblem(issue, value)}.`);

    case 'invalid_format':
      if (issue.format === 'url')
        return error(`${field} must be a full URL such as http://localhost:8080, not ${describe(value)}.`);
      if (issue.format === 'starts_with' && 'prefix' in issue)
        return error(`${field} must start with ${JSON.stringify(issue.prefix)}, not ${describe(value)}.`);
      if (isOwnMessage(issue.message))
        return error(`${field} cannot be ${describe(value)}. ${issue.message}`);
      return error(
        `${field} cannot be ${describe(value)}; it must match ${issue.pattern ?? `the ${issue.format} format`}.`,
      );

    case 'invalid_value':
      return error(
        `${field} cannot be ${describe(value)}; use ${orList(issue.values.map((v) => JSON.stringify(v)))}.`,
      );

    case 'invalid_key': {
      const reason = issue.issues.map((i) => i.message).find(isOwnMessage);
      const key = JSON.stringify(String(path.at(-1)));
      return error(
        `The key ${key} in ${label(path.slice(0, -1))} is not valid.${reason === undefined ? '' : ` ${reason}`}`,
        true,
      );
    }

    case 'custom':
      return error(issue.message);

    default:
      return error(`${field}: ${issue.message}`);
  }
}

/** `"image"`, `"parameters[1]"` for list items, `The manifest` for the root. */
function label(path: readonly PropertyKey[]): string {
  const last = path.at(-1);
  if (last === undefined) return 'The manifest';
  if (typeof last !== 'number') return JSON.stringify(String(last));
  const parent = path.at(-2);
  return `"${parent === undefined ? '' : String(parent)}[${last}]"`;
}

function typeNoun(expected: string): string {
  const nouns: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    int: 'a whole number',
    boolean: 'true or false',
    array: 'a list',
    object: 'a mapping',
    record: 'a mapping',
  };
  return nouns[expected] ?? expected;
}

function sizeProblem(issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall, value: unknown): string {
  const small = issue.code === 'too_small';
  const limit = Number(
    small ? (issue as z.core.$ZodIssueTooSmall).minimum : (issue as z.core.$ZodIssueTooBig).maximum,
  );
  const bound = small ? 'at least' : 'at most';
  if (issue.origin === 'string') {
    if (small && limit === 1) return 'must not be empty';
    return `must be ${bound} ${limit} characters long${typeof value === 'string' ? ` (it has ${value.length})` : ''}`;
  }
  if (issue.origin === 'array') {
    const count = Array.isArray(value) ? `, not ${value.length}` : '';
    return `${small ? 'needs at least' : 'takes at most'} ${limit} item${limit === 1 ? '' : 's'}${count}`;
  }
  const strict = issue.inclusive === false ? (small ? 'greater than' : 'less than') : bound;
  return `must be ${strict} ${limit}, not ${describe(value)}`;
}

/** zod's own messages start like this; ours (regex hints, refinements) are sentences to show as they are. */
function isOwnMessage(message: string): boolean {
  return !/^(Invalid|Too (big|small)|Unrecognized)\b/.test(message);
}

function unknownFieldMessage(key: string, objectPath: readonly PropertyKey[], data: unknown): string {
  const where = label(objectPath);
  const known = knownFields(objectPath, data);
  const suggestion = known === undefined ? undefined : closest(key, known);
  if (suggestion !== undefined)
    return `${where} has no field ${JSON.stringify(key)}; did you mean "${suggestion}"?`;
  const list = known === undefined ? '' : ` Its fields are: ${known.join(', ')}.`;
  return `${where} has no field ${JSON.stringify(key)}.${list}`;
}

/** The field names the schema allows at `path`, following the data through discriminated unions. */
function knownFields(path: readonly PropertyKey[], data: unknown): string[] | undefined {
  let schema: unknown = manifestSchema;
  let value = data;
  for (let i = 0; ; i++) {
    schema = choose(unwrap(schema), value);
    if (i === path.length) break;
    const segment = path[i] as PropertyKey;
    if (schema instanceof z.ZodObject) schema = schema.shape[String(segment)];
    else if (schema instanceof z.ZodArray) schema = schema.element;
    else if (schema instanceof z.ZodRecord) schema = schema.valueType;
    else return undefined;
    value = (value as Record<PropertyKey, unknown> | undefined)?.[segment];
  }
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : undefined;
}

function unwrap(schema: unknown): unknown {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable)
    s = s.unwrap();
  return s;
}

function choose(schema: unknown, value: unknown): unknown {
  if (!(schema instanceof z.ZodDiscriminatedUnion)) return schema;
  const discriminator: string = schema.def.discriminator;
  const tag = (value as Record<string, unknown> | undefined)?.[discriminator];
  return schema.options.find((option) => {
    const literal = option instanceof z.ZodObject ? option.shape[discriminator] : undefined;
    return literal instanceof z.ZodLiteral && literal.values.has(tag as never);
  });
}

/** The known name a typo most likely meant: same letters ignoring case and `_`/`-`, or within two edits. */
function closest(key: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const same = known.find((k) => norm(k) === norm(key));
  if (same !== undefined) return same;
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(norm(key), norm(name));
    if (distance <= 2 && distance < name.length / 2 && (best === undefined || distance < best.distance))
      best = { name, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(
        (row[j] ?? 0) + 1,
        (next[j - 1] ?? 0) + 1,
        (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    row = next;
  }
  return row[b.length] ?? 0;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

function orList(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? 'something else';
  return `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}
