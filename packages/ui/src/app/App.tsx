import { lazy, type ReactNode, Suspense, useEffect } from 'react';
import { useApi } from '../api/ApiContext';
import { useSession } from '../api/session';
import { Button, ErrorMessage, LoadingBlock, Toaster } from '../design';
import { WorkspacesScreen } from '../workspaces/WorkspacesScreen';
import { ErrorBoundary } from './ErrorBoundary';
import { Layout } from './Layout';
import { matchRoute, navigate, useRouter } from './router';

// Screens past the first one load on demand, so the workspaces list paints sooner; so do the
// forms, which bring the zod schemas from core with them.
const SetupScreen = lazy(() => import('../auth/SetupScreen'));
const SignInScreen = lazy(() => import('../auth/SignInScreen'));
const CreateWorkspaceScreen = lazy(() => import('../workspaces/CreateWorkspaceScreen'));
const WorkspaceScreen = lazy(() => import('../workspaces/WorkspaceScreen'));
const TemplatesScreen = lazy(() => import('../templates/TemplatesScreen'));
const TemplateScreen = lazy(() => import('../templates/TemplateScreen'));
const SettingsScreen = lazy(() => import('../settings/SettingsScreen'));
const UsersScreen = lazy(() => import('../admin/UsersScreen'));
const AiScreen = lazy(() => import('../admin/AiScreen'));
const UsageScreen = lazy(() => import('../admin/UsageScreen'));
const AuditScreen = lazy(() => import('../admin/AuditScreen'));
const ChatScreen = lazy(() => import('../chat/ChatScreen'));
const ChatThreadScreen = lazy(() => import('../chat/ChatThreadScreen'));

type Route = [pattern: string, render: (params: Record<string, string>) => ReactNode];

const routes: Route[] = [
  ['/workspaces', () => <WorkspacesScreen />],
  ['/workspaces/new', () => <CreateWorkspaceScreen />],
  ['/workspaces/:owner/:name', (p) => <WorkspaceScreen owner={p.owner ?? ''} name={p.name ?? ''} />],
  ['/templates', () => <TemplatesScreen />],
  ['/templates/:name', (p) => <TemplateScreen name={p.name ?? ''} />],
  ['/settings', () => <SettingsScreen tab="profile" />],
  ['/settings/tokens', () => <SettingsScreen tab="tokens" />],
  ['/settings/keys', () => <SettingsScreen tab="keys" />],
  ['/admin/users', () => <UsersScreen />],
  ['/admin/ai', () => <AiScreen />],
  ['/admin/usage', () => <UsageScreen />],
  ['/admin/audit', () => <AuditScreen />],
  ['/chat', () => <ChatScreen />],
  ['/chat/:id', (p) => <ChatThreadScreen chatId={p.id ?? ''} />],
];

function NotFound() {
  return (
    <>
      <h1>Nothing here</h1>
      <p>
        There is no page at this address.{' '}
        <Button onClick={() => navigate('/workspaces')}>Go to workspaces</Button>
      </p>
    </>
  );
}

function SignedInRoutes() {
  const path = useRouter((s) => s.path);
  const pathname = path.split('?')[0] ?? '/';
  useEffect(() => {
    if (pathname === '/' || pathname === '/signin' || pathname === '/setup')
      navigate('/workspaces', { replace: true });
  }, [pathname]);
  for (const [pattern, render] of routes) {
    const params = matchRoute(pattern, path);
    // Keyed by address: another chat or workspace is a new screen with fresh state, not the
    // last one's messages under a new heading. The boundary keeps the navigation usable when
    // a screen fails, and resets when the person goes elsewhere.
    if (params)
      return (
        <ErrorBoundary resetKey={pathname}>
          <Suspense key={pathname} fallback={<LoadingBlock label="Loading the page…" />}>
            {render(params)}
          </Suspense>
        </ErrorBoundary>
      );
  }
  return pathname === '/' ? <LoadingBlock /> : <NotFound />;
}

/** Decides between first-run setup, sign-in and the app from what the daemon says. */
export function App() {
  const api = useApi();
  const session = useSession((s) => s.session);
  useEffect(() => {
    void useSession.getState().refresh(api);
  }, [api]);

  switch (session.status) {
    case 'loading':
      return (
        <main className="centered">
          <LoadingBlock label="Connecting to Warren…" />
        </main>
      );
    case 'unreachable':
      return (
        <main className="centered">
          <div className="card">
            <h1>Warren is not answering</h1>
            <ErrorMessage>{session.error}</ErrorMessage>
            <Button variant="primary" onClick={() => useSession.getState().refresh(api)}>
              Try again
            </Button>
          </div>
        </main>
      );
    case 'setup':
      return (
        <Suspense fallback={<LoadingBlock />}>
          <SetupScreen />
        </Suspense>
      );
    case 'signedOut':
      return (
        <Suspense fallback={<LoadingBlock />}>
          <SignInScreen />
          <Toaster />
        </Suspense>
      );
    case 'signedIn':
      return (
        <Layout>
          <SignedInRoutes />
        </Layout>
      );
  }
}
