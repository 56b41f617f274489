import { observable } from '@trpc/server/observable';
import type { ApiLink } from '@warren/ui';

/**
 * Watches the screens' calls for the two moments the desktop itself must act on:
 * - `signedOut`: signing out in the screens revoked the desktop's token on the server
 *   (`auth.logout`), so the shell forgets the server here too;
 * - `tokenRejected`: the server refused the saved token (revoked or expired elsewhere). The
 *   screens would offer their password form, which cannot sign the desktop in (it sets a browser
 *   cookie), so the shell asks for a new token instead.
 */
export function sessionLink(on: { signedOut: () => void; tokenRejected: () => void }): ApiLink {
  return () =>
    ({ op, next }) =>
      observable((observer) =>
        next(op).subscribe({
          next: (value) => observer.next(value),
          error: (error) => {
            observer.error(error);
            const code = (error.data as { code?: unknown } | undefined)?.code;
            if (code === 'UNAUTHORIZED' && op.path !== 'auth.logout') on.tokenRejected();
          },
          complete: () => {
            observer.complete();
            if (op.path === 'auth.logout') on.signedOut();
          },
        }),
      );
}
