import { useDeferredValue, useMemo, useState } from 'react';
import { useQuery, useSubscription } from '../api/hooks';
import { hasRole, useCurrentUser } from '../api/session';
import { timeAgo } from '../app/format';
import { navigate } from '../app/router';
import {
  Badge,
  Button,
  CheckboxField,
  EmptyState,
  ErrorMessage,
  FilterBar,
  Link,
  LoadingBlock,
  Page,
  SelectField,
  StatusBadge,
  Table,
  TextField,
} from '../design';
import {
  sortWorkspaces,
  useWorkspaceList,
  type Workspace,
  type WorkspaceEvent,
  workspacePath,
} from './workspaceStore';

/** The live list: one load, then status changes over the watch subscription; filters run locally. */
export function WorkspacesScreen() {
  const user = useCurrentUser();
  const canSeeAll = hasRole(user, 'auditor');
  const [all, setAll] = useState(false);
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState('');
  const [template, setTemplate] = useState('');
  const deferredSearch = useDeferredValue(search);
  const { replaceAll, apply } = useWorkspaceList.getState();

  const list = useQuery(`workspaces:${all}`, async (api) => {
    const rows = await api.workspaces.list.query(all ? { all: true } : undefined);
    replaceAll(rows);
    return rows.length;
  });
  const live = useSubscription<WorkspaceEvent>(
    `watch:${all}`,
    (api, handlers) => api.workspaces.watch.subscribe(all ? { all: true } : undefined, handlers),
    apply,
    // Changes between the first load and the stream opening would be missed: load again.
    () => list.reload(),
  );
  const byId = useWorkspaceList((s) => s.byId);
  const workspaces = useMemo(() => sortWorkspaces(byId?.values() ?? []), [byId]);
  // Filters offer what the list holds; this also keeps the schemas package off the first screen.
  const templates = useMemo(() => [...new Set(workspaces.map((w) => w.template))].sort(), [workspaces]);
  const statuses = useMemo(() => [...new Set(workspaces.map((w) => w.status))].sort(), [workspaces]);
  const shown = useMemo(() => {
    const needle = deferredSearch.trim().toLowerCase();
    return workspaces.filter(
      (w) =>
        (!needle || w.name.includes(needle) || w.owner.includes(needle) || w.template.includes(needle)) &&
        (!status || w.status === status) &&
        (!template || w.template === template),
    );
  }, [workspaces, deferredSearch, status, template]);

  const columns = [
    { header: 'Name', cell: (w: Workspace) => <Link to={workspacePath(w)}>{w.name}</Link> },
    ...(all ? [{ header: 'Owner', cell: (w: Workspace) => w.owner }] : []),
    {
      header: 'Template',
      cell: (w: Workspace) => (
        <>
          {w.template} v{w.templateVersion} {w.outdated ? <Badge tone="warn">update available</Badge> : null}
        </>
      ),
    },
    { header: 'Status', cell: (w: Workspace) => <StatusBadge status={w.status} /> },
    {
      header: 'Last build',
      cell: (w: Workspace) =>
        `${w.latestBuild.transition} #${w.latestBuild.number}, ${timeAgo(w.latestBuild.createdAt)}`,
    },
  ];

  return (
    <Page
      title="Workspaces"
      actions={
        <Button variant="primary" onClick={() => navigate('/workspaces/new')}>
          New workspace
        </Button>
      }
    >
      <FilterBar label="Filter workspaces">
        <TextField
          label="Search"
          type="search"
          placeholder="Name, owner or template"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <SelectField
          label="Status"
          value={status}
          onChange={(e) => setStatus(e.target.value)}
          options={[{ value: '', label: 'Any status' }, ...statuses.map((s) => ({ value: s, label: s }))]}
        />
        <SelectField
          label="Template"
          value={template}
          onChange={(e) => setTemplate(e.target.value)}
          options={[{ value: '', label: 'Any template' }, ...templates.map((t) => ({ value: t, label: t }))]}
        />
        {canSeeAll ? (
          <CheckboxField
            label="Everyone’s workspaces"
            checked={all}
            onChange={(e) => setAll(e.target.checked)}
          />
        ) : null}
      </FilterBar>
      <ErrorMessage>{list.error}</ErrorMessage>
      {live.error ? <ErrorMessage>Live updates stopped: {live.error}</ErrorMessage> : null}
      {byId === undefined || (list.loading && list.data === undefined) ? (
        <LoadingBlock label="Loading workspaces…" />
      ) : workspaces.length === 0 ? (
        <EmptyState
          title="No workspaces yet"
          action={
            <Button variant="primary" onClick={() => navigate('/workspaces/new')}>
              Create a workspace
            </Button>
          }
        >
          A workspace is a development environment built from a template. Create one to get started.
        </EmptyState>
      ) : shown.length === 0 ? (
        <EmptyState title="No workspace matches these filters">
          Clear the search or choose another status or template.
        </EmptyState>
      ) : (
        <>
          <p className="muted" aria-live="polite">
            Showing {shown.length} of {workspaces.length} workspaces.
          </p>
          <Table caption="Workspaces" columns={columns} rows={shown} rowKey={(w) => w.id} />
        </>
      )}
    </Page>
  );
}
