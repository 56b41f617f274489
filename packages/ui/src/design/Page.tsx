import { type ReactNode, useEffect, useRef } from 'react';
import { useRouter } from '../app/router';

/**
 * A screen: its heading takes focus on arrival so keyboard and screen-reader users know where
 * they are. Only on arrival: a title that changes later (a chat named after its first turn)
 * must not pull focus out of a field the person is typing in.
 */
export function Page({
  title,
  actions,
  children,
}: {
  title: string;
  actions?: ReactNode;
  children: ReactNode;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  const pathname = useRouter((s) => s.path.split('?')[0]);
  useEffect(() => {
    document.title = `${title} · Warren`;
  }, [title]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: arriving at a new address is what moves focus.
  useEffect(() => {
    heading.current?.focus({ preventScroll: true });
  }, [pathname]);
  return (
    <>
      <header className="page-header">
        <h1 ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </header>
      {children}
    </>
  );
}

export function Section({
  title,
  children,
  actions,
}: {
  title: string;
  children: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <section className="section" aria-label={title}>
      <div className="section-header">
        <h2>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

/** Label and value pairs, such as a workspace's details. */
export function DefinitionList({ items }: { items: [string, ReactNode][] }) {
  return (
    <dl className="deflist">
      {items.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** The filters above a list, as a search landmark. */
export function FilterBar({ label, children }: { label: string; children: ReactNode }) {
  return (
    <search className="filters" aria-label={label}>
      {children}
    </search>
  );
}
