import type { ReactNode } from 'react';
import { useApi } from '../api/ApiContext';
import { useMutation } from '../api/hooks';
import { hasRole, useCurrentUser, useSession } from '../api/session';
import { Button, Link, SelectField, Toaster } from '../design';
import { type ThemeChoice, useTheme } from '../design/theme';
import { useRouter } from './router';

function NavLink({ to, children }: { to: string; children: ReactNode }) {
  const path = useRouter((s) => s.path.split('?')[0] ?? '');
  const current = path === to || path.startsWith(`${to}/`);
  return (
    <Link to={to} aria-current={current ? 'page' : undefined}>
      {children}
    </Link>
  );
}

function ThemeSelect() {
  const { choice, set } = useTheme();
  return (
    <SelectField
      label="Theme"
      value={choice}
      onChange={(e) => set(e.target.value as ThemeChoice)}
      options={[
        { value: 'system', label: 'Match the system' },
        { value: 'light', label: 'Light' },
        { value: 'dark', label: 'Dark' },
      ]}
    />
  );
}

/** The signed-in frame: navigation by what the person's roles allow, then the screen. */
export function Layout({ children }: { children: ReactNode }) {
  const api = useApi();
  const user = useCurrentUser();
  const signOut = useMutation((client) => client.auth.logout.mutate());
  const admin = {
    users: hasRole(user, 'user-admin', 'auditor'),
    ai: hasRole(user, 'auditor'),
    audit: hasRole(user, 'auditor'),
  };
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <Link to="/workspaces" className="brand">
          Warren
        </Link>
        <nav className="nav" aria-label="Main">
          <NavLink to="/workspaces">Workspaces</NavLink>
          <NavLink to="/templates">Templates</NavLink>
          <NavLink to="/chat">Chat</NavLink>
          <NavLink to="/settings">Settings</NavLink>
          {admin.users || admin.ai || admin.audit ? <h2 className="nav-heading">Admin</h2> : null}
          {admin.users ? <NavLink to="/admin/users">Users</NavLink> : null}
          {admin.ai ? <NavLink to="/admin/ai">AI providers</NavLink> : null}
          {admin.ai ? <NavLink to="/admin/usage">AI usage</NavLink> : null}
          {admin.audit ? <NavLink to="/admin/audit">Audit log</NavLink> : null}
        </nav>
        <div className="sidebar-foot">
          <ThemeSelect />
          <span>
            Signed in as <strong>{user.username}</strong>
          </span>
          <Button
            pending={signOut.pending}
            onClick={async () => {
              await signOut.run(undefined);
              await useSession.getState().refresh(api);
            }}
          >
            Sign out
          </Button>
        </div>
      </aside>
      <main id="main">{children}</main>
      <Toaster />
    </div>
  );
}
