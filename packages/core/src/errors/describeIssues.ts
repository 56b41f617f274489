/** A validation issue as zod (or any Standard Schema) reports it. */
export interface SchemaIssue {
  code?: string;
  path?: readonly (PropertyKey | { key: PropertyKey })[];
  message: string;
  expected?: string;
  input?: unknown;
  keys?: readonly string[];
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value === undefined) return 'missing';
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}

function article(expected: string): string {
  if (expected === 'null') return 'null';
  if (expected === 'array') return 'a list';
  if (expected === 'object') return 'an object';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]["')]?$/.test(capital) ? capital : `${capital}.`;
}

/** One issue as a sentence naming its field: `Field "username" must be a string, not an object.` */
export function describeIssue(issue: SchemaIssue): string {
  const path = (issue.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.');
  const field = path ? `Field "${path}"` : 'The input';
  if (issue.code === 'unrecognized_keys' && issue.keys?.length) {
    const names = issue.keys.map((k) => `"${path ? `${path}.` : ''}${k}"`).join(', ');
    return issue.keys.length === 1
      ? `Field ${names} is not a known field.`
      : `Fields ${names} are not known fields.`;
  }
  if (issue.code === 'invalid_type' && issue.expected) {
    // zod reports the received kind only in its message unless asked to keep the input.
    const named = /received (\w+)/.exec(issue.message)?.[1];
    const got =
      issue.input !== undefined
        ? kindOf(issue.input)
        : named && named !== 'undefined'
          ? article(named)
          : 'missing';
    if (got === 'missing') return `${field} is required.`;
    return `${field} must be ${article(issue.expected)}, not ${got}.`;
  }
  const message = issue.message.replace(/^Invalid input:\s*/i, '');
  return path ? sentence(`${field}: ${message}`) : sentence(message);
}

/** Up to three issues as sentences, and how many more there were. */
export function describeIssues(issues: readonly SchemaIssue[]): string {
  const parts = issues.slice(0, 3).map(describeIssue);
  const more = issues.length > 3 ? ` (${issues.length - 3} more problems.)` : '';
  return `${parts.join(' ')}${more}`;
}
