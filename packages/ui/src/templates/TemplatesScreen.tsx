import { useQuery } from '../api/hooks';
import { timeAgo } from '../app/format';
import { navigate } from '../app/router';
import { Button, EmptyState, ErrorMessage, Link, LoadingBlock, Page, Section, Table } from '../design';

export function PushHelp({ name = 'my-template' }: { name?: string }) {
  return (
    <Section title="How to push a template">
      <p>
        A template is a directory with a <code>warren.yaml</code> manifest. Push a new version with the CLI
        (template admins and owners):
      </p>
      <pre className="log">{`warren login ${location.origin}
warren templates pull local ./${name}    # start from the built-in one
warren templates push ./${name} --name ${name} --message "What changed"`}</pre>
      <p className="muted">
        Each push makes a new immutable version and, unless you pass <code>--no-activate</code>, makes it the
        active one. Workspaces on older versions show “update available”.
      </p>
    </Section>
  );
}

export default function TemplatesScreen() {
  const templates = useQuery('templates', (api) => api.templates.list.query());
  return (
    <Page title="Templates">
      <ErrorMessage>{templates.error}</ErrorMessage>
      {templates.data === undefined ? (
        <LoadingBlock label="Loading templates…" />
      ) : templates.data.length === 0 ? (
        <EmptyState title="No templates yet">Push one with the CLI as shown below.</EmptyState>
      ) : (
        <Table
          caption="Templates"
          rows={templates.data}
          rowKey={(t) => t.name}
          columns={[
            {
              header: 'Name',
              cell: (t) => <Link to={`/templates/${t.name}`}>{t.displayName ?? t.name}</Link>,
            },
            { header: 'Description', cell: (t) => t.description ?? '' },
            { header: 'Provisioner', cell: (t) => t.provisioner ?? '—' },
            {
              header: 'Active version',
              cell: (t) => (t.activeVersion ? `v${t.activeVersion}` : 'none'),
              numeric: true,
            },
            { header: 'Versions', cell: (t) => t.versions, numeric: true },
            { header: 'Updated', cell: (t) => timeAgo(t.updatedAt) },
            {
              header: 'Use',
              cell: (t) => (
                <Button onClick={() => navigate(`/workspaces/new?template=${encodeURIComponent(t.name)}`)}>
                  Create workspace from {t.name}
                </Button>
              ),
            },
          ]}
        />
      )}
      <PushHelp />
    </Page>
  );
}
