import type { TemplateManifest } from '@warren/core';
import { useQuery } from '../api/hooks';
import { timeAgo } from '../app/format';
import { navigate } from '../app/router';
import { Badge, Button, ErrorMessage, LoadingBlock, Page, Section, Table } from '../design';
import { PushHelp } from './TemplatesScreen';

/** A template's versions and the parameters of its active version. */
export default function TemplateScreen({ name }: { name: string }) {
  const versions = useQuery(`versions:${name}`, (api) => api.templates.versions.query({ name }));
  const active = useQuery(`template:${name}`, (api) => api.templates.get.query({ name }));
  const manifest = active.data?.manifest as TemplateManifest | undefined;
  return (
    <Page
      title={manifest?.displayName ?? name}
      actions={
        <Button
          variant="primary"
          onClick={() => navigate(`/workspaces/new?template=${encodeURIComponent(name)}`)}
        >
          Create workspace
        </Button>
      }
    >
      <ErrorMessage>{versions.error ?? active.error}</ErrorMessage>
      {manifest?.description ? <p>{manifest.description}</p> : null}
      <Section title="Versions">
        {versions.data ? (
          <Table
            caption={`Versions of ${name}`}
            rows={versions.data}
            rowKey={(v) => String(v.version)}
            columns={[
              {
                header: 'Version',
                cell: (v) => (
                  <>
                    v{v.version} {v.active ? <Badge tone="good">active</Badge> : null}
                  </>
                ),
              },
              { header: 'Message', cell: (v) => v.message ?? '' },
              { header: 'Pushed by', cell: (v) => v.createdBy },
              { header: 'Pushed', cell: (v) => timeAgo(v.createdAt) },
            ]}
          />
        ) : (
          <LoadingBlock label="Loading versions…" />
        )}
      </Section>
      {manifest ? (
        <Section title={`Parameters of v${active.data?.version}`}>
          {manifest.parameters.length === 0 ? (
            <p className="muted">No parameters.</p>
          ) : (
            <Table
              caption="Parameters"
              rows={manifest.parameters}
              rowKey={(p) => p.name}
              columns={[
                { header: 'Name', cell: (p) => p.displayName ?? p.name },
                { header: 'Type', cell: (p) => p.type },
                {
                  header: 'Default',
                  cell: (p) => (p.default === undefined ? 'required' : JSON.stringify(p.default)),
                },
                { header: 'Changeable later', cell: (p) => (p.mutable ? 'yes' : 'no') },
                { header: 'Description', cell: (p) => p.description ?? '' },
              ]}
            />
          )}
        </Section>
      ) : null}
      <PushHelp name={name} />
    </Page>
  );
}
