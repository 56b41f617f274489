import { checkParameterValue, type ParameterValue, type TemplateParameter, WarrenError } from '@warren/core';
import { askLine, canPrompt } from './prompt';

export interface ParameterRequest {
  template: string;
  parameters: readonly TemplateParameter[];
  /** From `--param name=value`; the server coerces text to each parameter's type. */
  given: Record<string, string>;
  /** An update keeps the workspace's current values, so only parameters new to it may be missing. */
  previous?: Record<string, ParameterValue>;
}

/**
 * The values to send: the flags, plus, for each required parameter that has no value, an
 * answer typed at the terminal. Without a terminal the missing flags are named instead.
 */
export async function collectParameters(request: ParameterRequest): Promise<Record<string, string>> {
  const declared = new Set(request.parameters.map((p) => p.name));
  const unknown = Object.keys(request.given).filter((name) => !declared.has(name));
  if (unknown.length > 0) {
    const known =
      declared.size > 0 ? `its parameters are ${[...declared].join(', ')}` : 'it has no parameters';
    throw new WarrenError(
      'INVALID_INPUT',
      `Template "${request.template}" has no parameter ${unknown.join(', ')}; ${known}.`,
    );
  }
  const missing = request.parameters.filter(
    (p) =>
      !Object.hasOwn(request.given, p.name) &&
      p.default === undefined &&
      !(request.previous && Object.hasOwn(request.previous, p.name)),
  );
  if (missing.length === 0) return request.given;
  if (!canPrompt()) {
    const flags = missing.map((p) => `--param ${p.name}=VALUE`).join(' ');
    throw new WarrenError(
      'INVALID_INPUT',
      `Template "${request.template}" needs a value for ${missing.map((p) => p.name).join(', ')}: pass ${flags}.`,
    );
  }
  const values = { ...request.given };
  for (const parameter of missing) values[parameter.name] = await askParameter(parameter);
  return values;
}

/** Asks until the answer is valid for the parameter; the server checks it again. */
async function askParameter(p: TemplateParameter): Promise<string> {
  const lines = [`\n${p.displayName ? `${p.displayName} (${p.name})` : p.name}, ${typeHint[p.type]}`];
  if (p.description) lines.push(`  ${p.description.trim().replace(/\n/g, '\n  ')}`);
  if (p.type === 'string' && p.validation?.options)
    lines.push(`  One of: ${p.validation.options.join(', ')}`);
  process.stderr.write(`${lines.join('\n')}\n`);
  for (;;) {
    const answer = await askLine(`${p.name}: `);
    const checked = checkParameterValue(p, answer);
    if (typeof checked !== 'string') return answer;
    process.stderr.write(`${checked}\n`);
  }
}

const typeHint: Record<TemplateParameter['type'], string> = {
  string: 'text',
  number: 'a number',
  bool: 'true or false',
  list: 'a list separated by commas',
};
