import { createTokenInput } from '@warren/core';
import { type FormEvent, useState } from 'react';
import { useMutation, useQuery } from '../api/hooks';
import { useCurrentUser } from '../api/session';
import { dateTime, timeAgo } from '../app/format';
import { useForm } from '../app/useForm';
import {
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
import { SecretOnce } from './SecretOnce';

const lifetimes = [
  { value: String(7 * 86400), label: '7 days' },
  { value: String(30 * 86400), label: '30 days' },
  { value: String(90 * 86400), label: '90 days' },
  { value: String(365 * 86400), label: '1 year' },
];
const nameOnly = createTokenInput.pick({ name: true });

/** Personal API tokens for the CLI and scripts. A new token's value is shown once, then only its name. */
export function TokensSettings() {
  const user = useCurrentUser();
  const tokens = useQuery('tokens', (api) => api.tokens.list.query());
  const form = useForm(nameOnly, { name: '' });
  const [lifetime, setLifetime] = useState(lifetimes[1]?.value ?? '');
  const [created, setCreated] = useState<{ name: string; token: string }>();
  const [revoking, setRevoking] = useState<{ id: string; name: string }>();
  const create = useMutation((api, input: { name: string; lifetimeSeconds: number }) =>
    api.tokens.create.mutate(input),
  );
  const revoke = useMutation((api, id: string) => api.tokens.revoke.mutate({ id }));
  // The session this page runs on is an API key too; it is listed but cannot be revoked from here.
  const sessions = (tokens.data ?? []).filter((t) => !t.revokedAt);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!form.validate()) return;
    const result = await create.run({ name: form.values.name ?? '', lifetimeSeconds: Number(lifetime) });
    if (result) {
      setCreated({ name: result.name, token: result.token });
      tokens.reload();
    }
  }

  return (
    <>
      <Section title="Create a token">
        <form onSubmit={submit} noValidate aria-label="Create a token" className="filters">
          <TextField
            label="Token name"
            hint="For example ci or laptop."
            error={form.error('name')}
            {...form.bind('name')}
          />
          <SelectField
            label="Expires after"
            value={lifetime}
            onChange={(e) => setLifetime(e.target.value)}
            options={lifetimes}
          />
          <div className="field">
            <Button type="submit" variant="primary" pending={create.pending}>
              Create token
            </Button>
          </div>
        </form>
        <ErrorMessage>{create.error}</ErrorMessage>
      </Section>
      <Section title="Your tokens and sessions">
        <ErrorMessage>{tokens.error ?? revoke.error}</ErrorMessage>
        {tokens.data === undefined ? (
          <LoadingBlock label="Loading tokens…" />
        ) : sessions.length === 0 ? (
          <EmptyState title="No tokens">Create a token above to sign in the CLI or a script.</EmptyState>
        ) : (
          <Table
            caption="Your tokens and sessions"
            rows={sessions}
            rowKey={(t) => t.id}
            columns={[
              { header: 'Name', cell: (t) => (t.id === user.apiKeyId ? `${t.name} (this session)` : t.name) },
              { header: 'Created', cell: (t) => dateTime(t.createdAt) },
              { header: 'Expires', cell: (t) => dateTime(t.expiresAt) },
              { header: 'Last used', cell: (t) => timeAgo(t.lastUsedAt) },
              {
                header: 'Revoke',
                cell: (t) =>
                  t.id === user.apiKeyId ? (
                    <span className="muted">Sign out to end it</span>
                  ) : (
                    <Button variant="danger" onClick={() => setRevoking({ id: t.id, name: t.name })}>
                      Revoke {t.name}
                    </Button>
                  ),
              },
            ]}
          />
        )}
      </Section>
      <Dialog
        open={created !== undefined}
        title={`Token ${created?.name ?? ''} created`}
        onClose={() => setCreated(undefined)}
        footer={
          <Button variant="primary" onClick={() => setCreated(undefined)}>
            I have copied it
          </Button>
        }
      >
        <p>Copy it now: Warren stores only a hash, so it cannot show this token again.</p>
        <SecretOnce secret={created?.token ?? ''} testId="new-token" />
      </Dialog>
      <ConfirmDialog
        open={revoking !== undefined}
        title={`Revoke ${revoking?.name ?? ''}?`}
        message="Anything signed in with this token stops working at once."
        confirmLabel="Revoke"
        danger
        pending={revoke.pending}
        error={revoke.error}
        onCancel={() => setRevoking(undefined)}
        onConfirm={async () => {
          if (revoking && (await revoke.run(revoking.id))) {
            toast(`Token ${revoking.name} was revoked.`);
            setRevoking(undefined);
            tokens.reload();
          }
        }}
      />
    </>
  );
}
