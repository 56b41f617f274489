import { checkParameterValue, type ParameterValue, type TemplateParameter } from '@warren/core';
import { CheckboxField, SelectField, TextField } from '../design';

/** What a form control holds for a parameter: text for most types, a boolean for bool. */
export type ParameterInput = string | boolean;

export function initialParameterInputs(params: TemplateParameter[]): Record<string, ParameterInput> {
  return Object.fromEntries(
    params.map((p) => {
      if (p.type === 'bool') return [p.name, p.default ?? false];
      if (p.type === 'list') return [p.name, (p.default ?? []).join(', ')];
      return [p.name, p.default === undefined ? '' : String(p.default)];
    }),
  );
}

/**
 * Checks each input with the daemon's own rules (core's checkParameterValue), so the sentence
 * beside a field is the one the daemon would answer with.
 */
export function checkParameterInputs(
  params: TemplateParameter[],
  inputs: Record<string, ParameterInput>,
): { values: Record<string, ParameterValue>; errors: Record<string, string> } {
  const values: Record<string, ParameterValue> = {};
  const errors: Record<string, string> = {};
  for (const p of params) {
    const raw = inputs[p.name];
    if (raw === '' && p.type !== 'string' && p.default === undefined) {
      errors[p.name] = `${label(p)} is required; give a value.`;
      continue;
    }
    if (raw === '' && p.type === 'number' && p.default !== undefined) continue;
    const checked = checkParameterValue(p, raw);
    if (typeof checked === 'string') errors[p.name] = checked;
    else values[p.name] = checked.value;
  }
  return { values, errors };
}

function label(p: TemplateParameter): string {
  return p.displayName ?? p.name;
}

/** A form generated from a template's parameters: each type gets its control, each rule its message. */
export function ParameterForm({
  parameters,
  inputs,
  errors,
  onChange,
  onBlur,
}: {
  parameters: TemplateParameter[];
  inputs: Record<string, ParameterInput>;
  errors: Record<string, string | undefined>;
  onChange: (name: string, value: ParameterInput) => void;
  onBlur: (name: string) => void;
}) {
  if (parameters.length === 0) return <p className="muted">This template has no parameters to fill in.</p>;
  return (
    <>
      {parameters.map((p) => {
        const common = {
          name: `param-${p.name}`,
          label: label(p),
          error: errors[p.name],
          onBlur: () => onBlur(p.name),
        };
        const hint = [
          p.description,
          p.mutable ? undefined : 'It cannot be changed after the workspace is created.',
        ]
          .filter(Boolean)
          .join(' ');
        if (p.type === 'bool')
          return (
            <CheckboxField
              key={p.name}
              {...common}
              hint={hint || undefined}
              checked={inputs[p.name] === true}
              onChange={(e) => onChange(p.name, e.target.checked)}
            />
          );
        if (p.type === 'string' && p.validation?.options)
          return (
            <SelectField
              key={p.name}
              {...common}
              hint={hint || undefined}
              value={String(inputs[p.name] ?? '')}
              onChange={(e) => onChange(p.name, e.target.value)}
              options={p.validation.options.map((o) => ({ value: o, label: o }))}
            />
          );
        const extra =
          p.type === 'list'
            ? /comma/i.test(p.description ?? '')
              ? ''
              : 'Separate items with commas.'
            : p.type === 'number'
              ? [
                  p.validation?.min !== undefined ? `At least ${p.validation.min}.` : '',
                  p.validation?.max !== undefined ? `At most ${p.validation.max}.` : '',
                ].join(' ')
              : '';
        return (
          <TextField
            key={p.name}
            {...common}
            hint={[hint, extra].filter((s) => s.trim()).join(' ') || undefined}
            inputMode={p.type === 'number' ? 'decimal' : undefined}
            value={String(inputs[p.name] ?? '')}
            onChange={(e) => onChange(p.name, e.target.value)}
          />
        );
      })}
    </>
  );
}
