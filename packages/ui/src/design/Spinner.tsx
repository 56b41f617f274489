/** A wait the person can see; `label` is what a screen reader hears. */
export function Spinner({
  label = 'Loading…',
  size = 'normal',
}: {
  label?: string;
  size?: 'small' | 'normal';
}) {
  return (
    <span className={`spinner-wrap${size === 'small' ? ' small' : ''}`} role={label ? 'status' : undefined}>
      <span className="spinner" aria-hidden="true" />
      {label ? <span className="spinner-label">{label}</span> : null}
    </span>
  );
}

/** Determinate when `value` is known (0..1), indeterminate otherwise. */
export function ProgressBar({ label, value }: { label: string; value?: number }) {
  return (
    <div className="progress">
      <progress aria-label={label} max={1} value={value} />
    </div>
  );
}

export function LoadingBlock({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading-block">
      <Spinner label={label} />
    </div>
  );
}
