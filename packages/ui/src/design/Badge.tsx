import type { ReactNode } from 'react';

export type Tone = 'neutral' | 'good' | 'busy' | 'warn' | 'bad';

/** Colour is never the only signal: the text says the same thing. */
export function Badge({ tone = 'neutral', children }: { tone?: Tone; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

const statusTone: Record<string, Tone> = {
  running: 'good',
  active: 'good',
  ok: 'good',
  succeeded: 'good',
  ready: 'good',
  healthy: 'good',
  initializing: 'busy',
  unhealthy: 'bad',
  pending: 'busy',
  starting: 'busy',
  stopping: 'busy',
  canceling: 'busy',
  deleting: 'busy',
  running_job: 'busy',
  stopped: 'neutral',
  canceled: 'neutral',
  deleted: 'neutral',
  suspended: 'warn',
  failed: 'bad',
  error: 'bad',
  start_error: 'bad',
};

export function StatusBadge({ status }: { status: string }) {
  const tone = statusTone[status] ?? 'neutral';
  return (
    <Badge tone={tone}>
      {tone === 'busy' ? <span className="pulse" aria-hidden="true" /> : null}
      {status.replace(/_/g, ' ')}
    </Badge>
  );
}
