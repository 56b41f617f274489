import { type FormEvent, useState } from 'react';
import { useMutation, useQuery } from '../api/hooks';
import { timeAgo } from '../app/format';
import { navigate } from '../app/router';
import {
  Button,
  EmptyState,
  ErrorMessage,
  Link,
  LoadingBlock,
  Page,
  Section,
  SelectField,
  StatusBadge,
  Table,
  TextAreaField,
} from '../design';

/** Chats: the list, and a new chat with a model picker limited to what policy allows. */
export default function ChatScreen() {
  const chats = useQuery('chats', (api) => api.chats.list.query());
  return (
    <Page title="Chat">
      <NewChat />
      <Section title="Your chats">
        <ErrorMessage>{chats.error}</ErrorMessage>
        {chats.data === undefined ? (
          <LoadingBlock label="Loading chats…" />
        ) : chats.data.length === 0 ? (
          <EmptyState title="No chats yet">
            Start one above: pick a model and, to let it work on files, a workspace.
          </EmptyState>
        ) : (
          <Table
            caption="Your chats"
            rows={chats.data}
            rowKey={(c) => c.id}
            columns={[
              { header: 'Chat', cell: (c) => <Link to={`/chat/${c.id}`}>{c.title ?? 'Untitled chat'}</Link> },
              { header: 'Model', cell: (c) => c.model },
              { header: 'Workspace', cell: (c) => c.workspace ?? '—' },
              { header: 'Status', cell: (c) => <StatusBadge status={c.status} /> },
              { header: 'Updated', cell: (c) => timeAgo(c.updatedAt) },
            ]}
          />
        )}
      </Section>
    </Page>
  );
}

function NewChat() {
  const models = useQuery('models:available', (api) => api.ai.models.available.query());
  const workspaces = useQuery('workspaces:mine', (api) => api.workspaces.list.query());
  const [model, setModel] = useState('');
  const [workspace, setWorkspace] = useState('');
  const [message, setMessage] = useState('');
  const create = useMutation((api, input: { model: string; workspace?: string; message: string }) =>
    api.chats.create.mutate(input),
  );
  const usable = (models.data ?? []).filter((m) => m.keySource !== 'missing');
  const chosenModel = model || usable[0]?.ref || '';

  async function submit(event: FormEvent) {
    event.preventDefault();
    const chat = await create.run({ model: chosenModel, ...(workspace ? { workspace } : {}), message });
    if (chat) navigate(`/chat/${chat.id}`);
  }

  if (models.data === undefined) return <LoadingBlock label="Loading the models you may use…" />;
  if (usable.length === 0)
    return (
      <EmptyState title="No model is available to you">
        {models.data.length > 0
          ? 'The models you may use need your own key: add it under Settings → AI keys.'
          : 'An owner adds AI providers and models under Admin → AI providers, and decides which roles may use them.'}
      </EmptyState>
    );
  return (
    <Section title="New chat">
      <form onSubmit={submit} aria-label="New chat">
        <div className="filters">
          <SelectField
            label="Model"
            value={chosenModel}
            onChange={(e) => setModel(e.target.value)}
            options={usable.map((m) => ({ value: m.ref, label: m.displayName ?? m.ref }))}
          />
          <SelectField
            label="Workspace"
            hint="The assistant's tools run there."
            value={workspace}
            onChange={(e) => setWorkspace(e.target.value)}
            options={[
              { value: '', label: 'None (no tools)' },
              ...(workspaces.data ?? [])
                .filter((w) => w.status === 'running')
                .map((w) => ({ value: w.name, label: w.name })),
            ]}
          />
        </div>
        <TextAreaField
          label="First message"
          value={message}
          onChange={(e) => setMessage(e.target.value)}
          required
        />
        <ErrorMessage>{create.error}</ErrorMessage>
        <Button type="submit" variant="primary" pending={create.pending} disabled={!message.trim()}>
          Start chat
        </Button>
      </form>
    </Section>
  );
}
