import { create } from 'zustand';
import type { ApiClient, Outputs } from './client';
import { errorCode, errorMessage } from './errorMessage';

export type CurrentUser = Outputs['auth']['whoami'];

type SessionState =
  | { status: 'loading' }
  | { status: 'unreachable'; error: string }
  | { status: 'setup' }
  | { status: 'signedOut' }
  | { status: 'signedIn'; user: CurrentUser };

interface SessionStore {
  session: SessionState;
  /** Asks the daemon who we are: first run, signed out, or signed in. */
  refresh(api: ApiClient): Promise<void>;
  signedOut(): void;
}

export const useSession = create<SessionStore>((set, get) => ({
  session: { status: 'loading' },
  async refresh(api) {
    try {
      const { needsFirstUser } = await api.setup.status.query();
      if (needsFirstUser) return set({ session: { status: 'setup' } });
      const user = await api.auth.whoami.query();
      set({ session: { status: 'signedIn', user } });
    } catch (error) {
      if (errorCode(error) === 'UNAUTHORIZED') set({ session: { status: 'signedOut' } });
      else set({ session: { status: 'unreachable', error: errorMessage(error) } });
    }
  },
  signedOut() {
    if (get().session.status !== 'signedOut') set({ session: { status: 'signedOut' } });
  },
}));

/** The signed-in user; screens behind sign-in may rely on it. */
export function useCurrentUser(): CurrentUser {
  const session = useSession((s) => s.session);
  if (session.status !== 'signedIn') throw new Error('useCurrentUser() is for screens behind sign-in.');
  return session.user;
}

export function hasRole(user: CurrentUser, ...roles: CurrentUser['roles']): boolean {
  return user.roles.includes('owner') || roles.some((r) => user.roles.includes(r));
}
