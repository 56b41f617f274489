import type { AnchorHTMLAttributes, MouseEvent } from 'react';
import { navigate, useRouter } from '../app/router';

/** An ordinary link (open in new tab works) that navigates in-app on a plain click. */
export function Link({ to, onClick, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const mode = useRouter((s) => s.mode);
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey)
      return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={mode === 'hash' ? `#${to}` : to} onClick={handle} {...rest} />;
}
