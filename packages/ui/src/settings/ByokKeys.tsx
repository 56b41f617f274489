import { type FormEvent, useState } from 'react';
import { useMutation, useQuery } from '../api/hooks';
import { dateTime } from '../app/format';
import {
  Badge,
  Button,
  ConfirmDialog,
  EmptyState,
  ErrorMessage,
  LoadingBlock,
  Section,
  Table,
  TextField,
  toast,
} from '../design';

/** Bring-your-own provider keys: stored encrypted, never shown again, used for your own AI calls. */
export function ByokKeys() {
  const keys = useQuery('byok', (api) => api.ai.byok.list.query());
  const [editing, setEditing] = useState<string>();
  const [removing, setRemoving] = useState<string>();
  const remove = useMutation((api, provider: string) => api.ai.byok.delete.mutate({ provider }));
  return (
    <Section title="Your AI provider keys">
      <p className="muted">
        Where a provider allows it, your own key is used for your AI calls instead of the team’s. Keys are
        stored encrypted and never shown again.
      </p>
      <ErrorMessage>{keys.error}</ErrorMessage>
      {keys.data === undefined ? (
        <LoadingBlock label="Loading providers…" />
      ) : keys.data.length === 0 ? (
        <EmptyState title="No AI providers accept personal keys">
          An owner adds AI providers under Admin → AI providers; those that allow personal keys appear here.
        </EmptyState>
      ) : (
        <Table
          caption="AI providers and your keys"
          rows={keys.data}
          rowKey={(k) => k.provider}
          columns={[
            { header: 'Provider', cell: (k) => `${k.provider} (${k.providerKind})` },
            {
              header: 'Personal keys',
              cell: (k) => <Badge tone={k.byok === 'required' ? 'warn' : 'neutral'}>{k.byok}</Badge>,
            },
            {
              header: 'Your key',
              cell: (k) => (k.last4 ? `…${k.last4}, added ${dateTime(k.createdAt)}` : 'none'),
            },
            {
              header: 'Change',
              cell: (k) =>
                k.byok === 'forbidden' ? (
                  <span className="muted">Not allowed</span>
                ) : (
                  <div className="row">
                    <Button onClick={() => setEditing(k.provider)}>
                      {k.last4 ? 'Replace' : 'Add'} key for {k.provider}
                    </Button>
                    {k.last4 ? (
                      <Button variant="danger" onClick={() => setRemoving(k.provider)}>
                        Remove
                      </Button>
                    ) : null}
                  </div>
                ),
            },
          ]}
        />
      )}
      {editing ? (
        <KeyForm
          provider={editing}
          onDone={() => {
            setEditing(undefined);
            keys.reload();
          }}
        />
      ) : null}
      <ConfirmDialog
        open={removing !== undefined}
        title={`Remove your ${removing ?? ''} key?`}
        message="Your calls to this provider then use the team’s key, if it has one."
        confirmLabel="Remove"
        danger
        pending={remove.pending}
        error={remove.error}
        onCancel={() => setRemoving(undefined)}
        onConfirm={async () => {
          if (removing && (await remove.run(removing))) {
            setRemoving(undefined);
            keys.reload();
          }
        }}
      />
    </Section>
  );
}

function KeyForm({ provider, onDone }: { provider: string; onDone: () => void }) {
  const [apiKey, setApiKey] = useState('');
  const set = useMutation((api, input: { provider: string; apiKey: string }) =>
    api.ai.byok.set.mutate(input),
  );
  async function submit(event: FormEvent) {
    event.preventDefault();
    if (await set.run({ provider, apiKey })) {
      toast(`Your ${provider} key was saved.`);
      onDone();
    }
  }
  return (
    <form onSubmit={submit} aria-label={`Key for ${provider}`}>
      <TextField
        label={`Your ${provider} API key`}
        type="password"
        autoComplete="off"
        value={apiKey}
        error={set.error}
        onChange={(e) => setApiKey(e.target.value)}
      />
      <div className="row">
        <Button type="submit" variant="primary" pending={set.pending}>
          Save key
        </Button>
        <Button onClick={onDone}>Cancel</Button>
      </div>
    </form>
  );
}
