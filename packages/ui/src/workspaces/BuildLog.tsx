import { useEffect, useRef, useState } from 'react';
import { useSubscription } from '../api/hooks';
import { ErrorMessage, ProgressBar, StatusBadge } from '../design';

type LogEvent =
  | { seq: number; time: number; level: 'info' | 'warn' | 'error'; line: string }
  | { end: true; status: string; error: string | null };

/**
 * One build's log: the backlog, then live lines as the provisioner writes them, until the
 * end marker. Follows the bottom unless the person scrolled up to read.
 */
export function BuildLog({ owner, name, build }: { owner: string; name: string; build: number }) {
  const [lines, setLines] = useState<{ seq: number; level: string; line: string }[]>([]);
  const [end, setEnd] = useState<{ status: string; error: string | null }>();
  const box = useRef<HTMLPreElement>(null);
  const follow = useRef(true);
  const key = `${owner}/${name}#${build}`;
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new build starts a new log.
  useEffect(() => {
    setLines([]);
    setEnd(undefined);
  }, [key]);
  const { error } = useSubscription<LogEvent>(
    key,
    (api, handlers) => api.workspaces.logs.subscribe({ owner, name, build }, handlers),
    (event) => {
      if ('end' in event) setEnd({ status: event.status, error: event.error });
      else
        setLines((current) =>
          // Reconnects replay from the start: sequence numbers keep each line once.
          current.length > 0 && (current.at(-1)?.seq ?? 0) >= event.seq ? current : [...current, event],
        );
    },
    undefined,
    // The end marker is the last thing a build's log sends: nothing to reconnect for after it.
    { isLast: (event) => 'end' in event },
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll when lines arrive.
  useEffect(() => {
    const el = box.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  return (
    <div>
      <div className="row" style={{ marginBottom: '0.5rem' }}>
        <span>Build #{build}</span>
        {end ? <StatusBadge status={end.status} /> : <StatusBadge status="running_job" />}
        <span className="muted">{lines.length} lines</span>
      </div>
      {end ? null : <ProgressBar label={`Build #${build} in progress`} />}
      <ErrorMessage>{error}</ErrorMessage>
      {end?.error ? <ErrorMessage>The build failed: {end.error}</ErrorMessage> : null}
      <pre
        ref={box}
        className="log"
        role="log"
        aria-label={`Log of build #${build}`}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the log scrolls, so keyboard users must reach it.
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          follow.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
        }}
      >
        {lines.length === 0 && !end ? 'Waiting for the provisioner to write its first line…' : null}
        {lines.map((l) => (
          <span key={l.seq} className={l.level === 'info' ? undefined : 'stderr'}>
            {l.line}
            {'\n'}
          </span>
        ))}
      </pre>
    </div>
  );
}
