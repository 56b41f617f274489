import { useState } from 'react';
import type { z } from 'zod';

/**
 * Form values checked against the same zod schema the daemon uses, so a person sees the
 * daemon's own sentence beside the field before anything is sent.
 */
export function useForm<S extends z.ZodObject>(schema: S, initial: Record<string, string>) {
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [touched, setTouched] = useState<Record<string, boolean>>({});

  function check(next: Record<string, string>): Record<string, string> {
    const result = schema.safeParse(next);
    const found: Record<string, string> = {};
    if (!result.success)
      for (const issue of result.error.issues) {
        const key = String(issue.path[0] ?? '');
        found[key] ??= issue.message;
      }
    return found;
  }

  return {
    values,
    /** The error to show: only for fields the person has left or after a submit. */
    error: (name: string) => (touched[name] ? errors[name] : undefined),
    bind: (name: string) => ({
      name,
      value: values[name] ?? '',
      onChange: (event: { target: { value: string } }) => {
        const next = { ...values, [name]: event.target.value };
        setValues(next);
        if (touched[name]) setErrors(check(next));
      },
      onBlur: () => {
        setTouched((t) => ({ ...t, [name]: true }));
        setErrors(check(values));
      },
    }),
    /** True when valid; otherwise every error shows and focus moves to the first bad field. */
    validate(): boolean {
      const found = check(values);
      setErrors(found);
      setTouched(Object.fromEntries(Object.keys(values).map((k) => [k, true])));
      const first = Object.keys(found)[0];
      if (first) document.querySelector<HTMLElement>(`[name="${first}"]`)?.focus();
      return first === undefined;
    },
  };
}
