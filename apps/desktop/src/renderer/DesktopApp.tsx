import type { TRPCLink } from '@trpc/client';
import {
  ApiProvider,
  createApiClient,
  ErrorMessage,
  errorMessage,
  LoadingBlock,
  WarrenApp,
} from '@warren/ui';
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { AppRouter } from '../main/api/AppRouter';
import { DesktopBar } from './DesktopBar';
import { DesktopSignIn } from './DesktopSignIn';
import { type DeploymentView, useDesktopApi } from './desktopApi';
import { desktopTerminalConnector } from './desktopTerminalConnector';
import { sessionLink } from './sessionLink';

type Deployments =
  | { status: 'loading' }
  | { status: 'failed'; error: string }
  | { status: 'ready'; list: DeploymentView[] };

/**
 * The window: the desktop's sign-in when no server is live, otherwise the desktop bar over the
 * packages/ui screens, whose every call goes through the main process (`daemonLink`).
 */
export function DesktopApp({ daemonLink }: { daemonLink: TRPCLink<AppRouter> }) {
  const desktop = useDesktopApi();
  const [deployments, setDeployments] = useState<Deployments>({ status: 'loading' });
  const [adding, setAdding] = useState(false);
  /** The live server refused its saved token: ask for a new one for the same server. */
  const [rejected, setRejected] = useState(false);

  const reload = useCallback(
    () =>
      desktop.deployments.list
        .query()
        .then((list) => setDeployments({ status: 'ready', list }))
        .catch((error) => setDeployments({ status: 'failed', error: errorMessage(error) })),
    [desktop],
  );
  useEffect(() => void reload(), [reload]);

  const list = deployments.status === 'ready' ? deployments.list : [];
  const active = list.find((d) => d.active);
  const activeId = active?.id;
  const client = useMemo(
    () =>
      createApiClient([
        sessionLink({
          signedOut: () => {
            if (activeId) void desktop.deployments.remove.mutate({ id: activeId }).finally(reload);
          },
          tokenRejected: () => setRejected(true),
        }),
        daemonLink,
      ]),
    [daemonLink, desktop, activeId, reload],
  );

  if (deployments.status === 'loading')
    return (
      <main className="centered">
        <LoadingBlock label="Starting Warren…" />
      </main>
    );
  if (deployments.status === 'failed')
    return (
      <main className="centered">
        <ErrorMessage>{deployments.error}</ErrorMessage>
      </main>
    );
  if (!active || adding || rejected)
    return (
      <DesktopSignIn
        url={rejected ? active?.url : undefined}
        notice={
          rejected && active
            ? `${active.name} no longer accepts the saved token (it was revoked or has expired). Paste a new one.`
            : undefined
        }
        onSignedIn={() => {
          setAdding(false);
          setRejected(false);
          void reload();
        }}
        onCancel={active && !rejected ? () => setAdding(false) : undefined}
      />
    );
  return (
    <>
      {/* The bar's ports dialog lists workspaces through the same client as the screens. */}
      <ApiProvider client={client}>
        <DesktopBar
          deployments={list}
          onAddServer={() => setAdding(true)}
          onSwitch={(id) => void desktop.deployments.switch.mutate({ id }).then(reload, reload)}
        />
      </ApiProvider>
      {/* A new server is a new app: fresh session, caches and subscriptions. */}
      <WarrenApp key={active.id} client={client} routing="hash" terminal={desktopTerminalConnector} />
    </>
  );
}
