import { providerKinds } from '@warren/core';
import { type FormEvent, useState } from 'react';
import { useMutation, useQuery } from '../api/hooks';
import {
  Badge,
  Button,
  ConfirmDialog,
  Dialog,
  EmptyState,
  ErrorMessage,
  LoadingBlock,
  Section,
  SelectField,
  Table,
  TextField,
  toast,
} from '../design';

/** Providers and their central keys (only ever shown as their last 4 characters). */
export function ProvidersSection({ canEdit }: { canEdit: boolean }) {
  const providers = useQuery('ai:providers', (api) => api.ai.providers.list.query());
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<string>();
  const toggle = useMutation((api, p: { name: string; enabled: boolean }) =>
    api.ai.providers.update.mutate(p),
  );
  const remove = useMutation((api, name: string) => api.ai.providers.delete.mutate({ name }));
  return (
    <Section
      title="Providers"
      actions={
        canEdit ? (
          <Button variant="primary" onClick={() => setAdding(true)}>
            Add provider
          </Button>
        ) : null
      }
    >
      <ErrorMessage>{providers.error ?? toggle.error}</ErrorMessage>
      {providers.data === undefined ? (
        <LoadingBlock label="Loading providers…" />
      ) : providers.data.length === 0 ? (
        <EmptyState title="No AI providers yet">
          Add a provider (OpenAI, Anthropic, Google or an OpenAI-compatible server such as Ollama) with a
          central key; then add its models below.
        </EmptyState>
      ) : (
        <Table
          caption="AI providers"
          rows={providers.data}
          rowKey={(p) => p.id}
          columns={[
            { header: 'Name', cell: (p) => p.name },
            { header: 'Kind', cell: (p) => p.kind },
            { header: 'Base URL', cell: (p) => <span className="mono">{p.baseUrl}</span> },
            { header: 'Personal keys', cell: (p) => p.byok },
            {
              header: 'Central keys',
              cell: (p) => (p.keys.length ? p.keys.map((k) => `…${k.last4}`).join(', ') : 'none'),
            },
            { header: 'Models', cell: (p) => p.modelCount, numeric: true },
            {
              header: 'State',
              cell: (p) => (
                <Badge tone={p.enabled ? 'good' : 'neutral'}>{p.enabled ? 'enabled' : 'disabled'}</Badge>
              ),
            },
            ...(canEdit
              ? [
                  {
                    header: 'Change',
                    cell: (p: { name: string; enabled: boolean }) => (
                      <div className="row">
                        <Button
                          onClick={async () => {
                            if (await toggle.run({ name: p.name, enabled: !p.enabled })) providers.reload();
                          }}
                        >
                          {p.enabled ? 'Disable' : 'Enable'} {p.name}
                        </Button>
                        <Button variant="danger" onClick={() => setDeleting(p.name)}>
                          Delete
                        </Button>
                      </div>
                    ),
                  },
                ]
              : []),
          ]}
        />
      )}
      {/* Mounted only while open, so a key typed and abandoned is gone when it opens again. */}
      {adding ? <AddProviderDialog onClose={() => setAdding(false)} onAdded={providers.reload} /> : null}
      <ConfirmDialog
        open={deleting !== undefined}
        title={`Delete provider ${deleting ?? ''}?`}
        message="Its keys and models are removed; calls to its models fail from now on."
        confirmLabel="Delete"
        danger
        pending={remove.pending}
        error={remove.error}
        onCancel={() => setDeleting(undefined)}
        onConfirm={async () => {
          if (deleting && (await remove.run(deleting))) {
            toast(`Provider ${deleting} was deleted.`);
            setDeleting(undefined);
            providers.reload();
          }
        }}
      />
    </Section>
  );
}

function AddProviderDialog({ onClose, onAdded }: { onClose: () => void; onAdded: () => void }) {
  const [values, setValues] = useState({
    name: '',
    kind: 'openai',
    baseUrl: '',
    byok: 'allowed',
    apiKey: '',
  });
  const add = useMutation((api, v: typeof values) =>
    api.ai.providers.create.mutate({
      name: v.name,
      kind: v.kind as (typeof providerKinds)[number],
      baseUrl: v.baseUrl || undefined,
      byok: v.byok as 'allowed' | 'required' | 'forbidden',
      apiKey: v.apiKey || undefined,
    }),
  );
  const bind = (key: keyof typeof values) => ({
    value: values[key],
    onChange: (e: { target: { value: string } }) => setValues({ ...values, [key]: e.target.value }),
  });
  async function submit(event: FormEvent) {
    event.preventDefault();
    if (await add.run(values)) {
      toast(`Provider ${values.name} was added.`);
      onAdded();
      onClose();
    }
  }
  return (
    <Dialog open title="Add AI provider" onClose={onClose}>
      <form onSubmit={submit} aria-label="Add AI provider">
        <TextField label="Name" hint="Lowercase, e.g. openai or local-ollama." {...bind('name')} />
        <SelectField
          label="Kind"
          options={providerKinds.map((k) => ({ value: k, label: k }))}
          {...bind('kind')}
        />
        <TextField label="Base URL" hint="Leave empty for the provider’s own API." {...bind('baseUrl')} />
        <SelectField
          label="Personal keys"
          options={[
            { value: 'allowed', label: 'Allowed: people may use their own key' },
            { value: 'required', label: 'Required: people must use their own key' },
            { value: 'forbidden', label: 'Forbidden: only the central key' },
          ]}
          {...bind('byok')}
        />
        <TextField
          label="Central API key"
          type="password"
          autoComplete="off"
          hint="Stored encrypted; optional."
          {...bind('apiKey')}
        />
        <ErrorMessage>{add.error}</ErrorMessage>
        <div className="dialog-footer">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" pending={add.pending}>
            Add provider
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
