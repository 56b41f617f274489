import {
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
  useId,
} from 'react';

interface FieldFrame {
  label: string;
  /** A sentence under the control that explains it. */
  hint?: ReactNode;
  /** A sentence saying what is wrong; the control is marked invalid and points at it. */
  error?: string | undefined;
}

/**
 * What every field shares: an id for the label, the control's ARIA links to its hint and
 * error, and the hint and error text themselves.
 */
function useFieldFrame(id: string | undefined, hint: ReactNode, error: string | undefined) {
  const auto = useId();
  const inputId = id ?? auto;
  const hintId = hint ? `${inputId}-hint` : undefined;
  const errorId = error ? `${inputId}-error` : undefined;
  return {
    control: {
      id: inputId,
      'aria-invalid': error ? true : undefined,
      'aria-describedby': [errorId, hintId].filter(Boolean).join(' ') || undefined,
    },
    text: (
      <>
        {hint ? (
          <div className="field-hint" id={hintId}>
            {hint}
          </div>
        ) : null}
        {error ? (
          <div className="field-error" id={errorId}>
            {error}
          </div>
        ) : null}
      </>
    ),
  };
}

/** A labelled control above its hint and error; `control` gets the id and ARIA links. */
function Field({
  label,
  hint,
  error,
  id,
  control,
}: FieldFrame & { id: string | undefined; control: (links: ControlLinks) => ReactNode }) {
  const frame = useFieldFrame(id, hint, error);
  return (
    <div className="field">
      <label htmlFor={frame.control.id}>{label}</label>
      {control(frame.control)}
      {frame.text}
    </div>
  );
}

type ControlLinks = ReturnType<typeof useFieldFrame>['control'];

export function TextField({
  label,
  hint,
  error,
  id,
  ...rest
}: FieldFrame & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <Field
      {...{ label, hint, error, id }}
      control={(links) => <input className="input" {...links} {...rest} />}
    />
  );
}

export function TextAreaField({
  label,
  hint,
  error,
  id,
  ...rest
}: FieldFrame & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return (
    <Field
      {...{ label, hint, error, id }}
      control={(links) => <textarea className="input" {...links} {...rest} />}
    />
  );
}

export function SelectField({
  label,
  hint,
  error,
  id,
  options,
  ...rest
}: FieldFrame & SelectHTMLAttributes<HTMLSelectElement> & { options: { value: string; label: string }[] }) {
  return (
    <Field
      {...{ label, hint, error, id }}
      control={(links) => (
        <select className="input" {...links} {...rest}>
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    />
  );
}

export function CheckboxField({
  label,
  hint,
  error,
  id,
  ...rest
}: FieldFrame & InputHTMLAttributes<HTMLInputElement>) {
  const frame = useFieldFrame(id, hint, error);
  return (
    <div className="field field-check">
      <input type="checkbox" {...frame.control} {...rest} />
      <label htmlFor={frame.control.id}>{label}</label>
      {frame.text}
    </div>
  );
}

/** An error that belongs to the whole form or screen, announced when it appears. */
export function ErrorMessage({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <div className="error-box" role="alert">
      {children}
    </div>
  );
}
