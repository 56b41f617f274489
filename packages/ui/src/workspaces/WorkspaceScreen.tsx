import type { TemplateManifest } from '@warren/core';
import { lazy, Suspense, useEffect, useState } from 'react';
import { useQuery, useSubscription } from '../api/hooks';
import { useCurrentUser } from '../api/session';
import { dateTime, timeAgo } from '../app/format';
import { navigate } from '../app/router';
import {
  Badge,
  Button,
  DefinitionList,
  EmptyState,
  ErrorMessage,
  LoadingBlock,
  Page,
  Section,
  StatusBadge,
  Table,
} from '../design';
import { AgentInfo } from './AgentInfo';
import { BuildLog } from './BuildLog';
import { WorkspaceActions } from './WorkspaceActions';
import type { Workspace, WorkspaceEvent } from './workspaceStore';

const WorkspaceTerminal = lazy(() => import('../terminal/WorkspaceTerminal'));

/** One workspace: live status, what it is made of, its builds and their logs, and its actions. */
export default function WorkspaceScreen({ owner, name }: { owner: string; name: string }) {
  const ref = { owner, name };
  const loaded = useQuery(`workspace:${owner}/${name}`, (api) => api.workspaces.get.query(ref));
  // The newest of what was loaded and what the watch stream said.
  const [live, setLive] = useState<Workspace | 'deleted'>();
  useEffect(() => {
    setLive(loaded.data);
  }, [loaded.data]);
  const me = useCurrentUser();
  const watched = useSubscription<WorkspaceEvent>(
    loaded.data ? `watch:${loaded.data.id}` : undefined,
    (api, handlers) =>
      api.workspaces.watch.subscribe(owner === me.username ? undefined : { all: true }, handlers),
    (event) => {
      if (event.id !== loaded.data?.id) return;
      setLive('deleted' in event ? 'deleted' : event);
    },
    // A build may have finished between the load and the stream opening.
    () => loaded.reload(),
  );
  const workspace = live === 'deleted' ? undefined : live;
  const builds = useQuery(
    `builds:${owner}/${name}:${workspace?.latestBuild.number}:${workspace?.status}`,
    (api) => api.workspaces.builds.query(ref),
  );
  // The watch stream carries build changes, not the agent's: poll while the agent settles.
  const agentSettling =
    workspace?.status === 'running' && !(workspace.agent?.connected && workspace.agent.lifecycle === 'ready');
  const reloadWorkspace = loaded.reload;
  useEffect(() => {
    if (!agentSettling) return;
    const timer = setInterval(reloadWorkspace, 2000);
    return () => clearInterval(timer);
  }, [agentSettling, reloadWorkspace]);
  const [shownBuild, setShownBuild] = useState<number>();
  const latest = workspace?.latestBuild.number;
  // A new build (start, stop, restart) moves the log to it.
  useEffect(() => {
    setShownBuild(latest);
  }, [latest]);

  if (live === 'deleted')
    return (
      <Page title={name}>
        <EmptyState
          title="This workspace was deleted"
          action={<Button onClick={() => navigate('/workspaces')}>Back to workspaces</Button>}
        >
          Its resources are gone. Create a new workspace from the workspaces page.
        </EmptyState>
      </Page>
    );
  if (!workspace)
    return (
      <Page title={name}>
        {loaded.error ? (
          <ErrorMessage>{loaded.error}</ErrorMessage>
        ) : (
          <LoadingBlock label="Loading the workspace…" />
        )}
      </Page>
    );

  return (
    <Page
      title={workspace.name}
      actions={<WorkspaceActions workspace={workspace} onDone={(v) => v === 'delete' || loaded.reload()} />}
    >
      {watched.error ? <ErrorMessage>Live status stopped: {watched.error}</ErrorMessage> : null}
      <Section title="Status">
        <DefinitionList
          items={[
            ['Status', <StatusBadge key="s" status={workspace.status} />],
            ['Owner', workspace.owner],
            [
              'Template',
              <>
                {workspace.template} v{workspace.templateVersion}{' '}
                {workspace.outdated ? (
                  <Badge tone="warn">v{workspace.activeTemplateVersion} available</Badge>
                ) : null}
              </>,
            ],
            [
              'Agent',
              workspace.agent
                ? `${workspace.agent.lifecycle}${workspace.agent.connected ? ', connected' : ', not connected'}`
                : 'not started',
            ],
            [
              'Autostop',
              workspace.autostopMinutes ? `after ${workspace.autostopMinutes} minutes idle` : 'off',
            ],
            ['Stops at', workspace.deadline ? dateTime(workspace.deadline) : '—'],
            [
              'Autostart',
              workspace.autostart ? `${workspace.autostart.cron} (${workspace.autostart.timezone})` : 'off',
            ],
            ['Last activity', timeAgo(workspace.lastActivityAt)],
            ['Created', dateTime(workspace.createdAt)],
          ]}
        />
        {workspace.latestBuild.error ? (
          <ErrorMessage>The last build failed: {workspace.latestBuild.error}</ErrorMessage>
        ) : null}
      </Section>
      <TemplateParts workspace={workspace} />
      <Section title="Build log">
        {shownBuild ? <BuildLog owner={workspace.owner} name={workspace.name} build={shownBuild} /> : null}
      </Section>
      <Section title="Build history">
        <ErrorMessage>{builds.error}</ErrorMessage>
        {builds.data ? (
          <Table
            caption="Builds of this workspace"
            rows={builds.data}
            rowKey={(b) => String(b.number)}
            columns={[
              { header: 'Build', cell: (b) => `#${b.number}`, numeric: true },
              { header: 'Action', cell: (b) => `${b.transition} (${b.reason})` },
              { header: 'Status', cell: (b) => <StatusBadge status={b.status} /> },
              { header: 'By', cell: (b) => b.initiator },
              { header: 'Template', cell: (b) => `v${b.templateVersion}` },
              { header: 'Started', cell: (b) => timeAgo(b.createdAt) },
              {
                header: 'Log',
                cell: (b) => (
                  <Button
                    variant="ghost"
                    aria-pressed={shownBuild === b.number}
                    onClick={() => setShownBuild(b.number)}
                  >
                    Show log of #{b.number}
                  </Button>
                ),
              },
            ]}
          />
        ) : (
          <LoadingBlock label="Loading builds…" />
        )}
      </Section>
      <Section title="Terminal">
        <TerminalSection workspace={workspace} />
      </Section>
    </Page>
  );
}

/** The terminal opens on request, once the agent is ready: it is a live shell, not a preview. */
function TerminalSection({ workspace }: { workspace: Workspace }) {
  const [open, setOpen] = useState(false);
  const ref = `${workspace.owner}/${workspace.name}`;
  const ready =
    workspace.status === 'running' && workspace.agent?.connected && workspace.agent.lifecycle === 'ready';
  if (!ready)
    return (
      <p className="muted">
        {workspace.status === 'running'
          ? 'The terminal is available once the agent is ready.'
          : 'Start the workspace to open a terminal.'}{' '}
        From your machine you can also use <code>warren ssh {ref}</code>.
      </p>
    );
  if (!open)
    return (
      <Button variant="primary" onClick={() => setOpen(true)}>
        Open terminal
      </Button>
    );
  return (
    <Suspense fallback={<LoadingBlock label="Loading the terminal…" />}>
      <WorkspaceTerminal workspace={ref} />
    </Suspense>
  );
}

/** Resources as the template version declares them; apps, ports and metadata as the agent reports them. */
function TemplateParts({ workspace }: { workspace: Workspace }) {
  const template = useQuery(`template:${workspace.template}@${workspace.templateVersion}`, (api) =>
    api.templates.get.query({ name: workspace.template, version: workspace.templateVersion }),
  );
  if (template.error) return <ErrorMessage>{template.error}</ErrorMessage>;
  if (!template.data) return <LoadingBlock label="Loading the template…" />;
  const manifest = template.data.manifest as TemplateManifest;
  const params = Object.entries(workspace.parameters);
  return (
    <>
      <Section title="Resources">
        <DefinitionList
          items={[
            ['Provisioner', manifest.provisioner.type],
            ...params.map(([k, v]): [string, string] => [
              manifest.parameters.find((p) => p.name === k)?.displayName ?? k,
              Array.isArray(v) ? v.join(', ') : String(v),
            ]),
          ]}
        />
      </Section>
      {workspace.status === 'running' ? (
        <AgentInfo workspace={workspace} manifest={manifest} />
      ) : (
        <Section title="Apps and ports">
          <p className="muted">Apps, listening ports and metadata show here while the workspace runs.</p>
        </Section>
      )}
    </>
  );
}
