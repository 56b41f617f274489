import { useQuery } from '../api/hooks';
import { EmptyState, ErrorMessage, LoadingBlock, Page, Section, Table } from '../design';

/**
 * Chat arrives with the daemon's chat router. Until then this screen shows what it will offer
 * and which models the person's roles allow, which is what the model picker will list.
 */
export default function ChatScreen() {
  const models = useQuery('models:available', (api) => api.ai.models.available.query());
  return (
    <Page title="Chat">
      <EmptyState title="Chat is coming">
        Chats with an AI agent that works inside your workspaces will appear here: streaming answers, tool calls you can
        expand, and a model picker limited to the models your roles allow.
      </EmptyState>
      <Section title="Models you may use">
        <ErrorMessage>{models.error}</ErrorMessage>
        {models.data === undefined ? (
          <LoadingBlock label="Loading models…" />
        ) : models.data.length === 0 ? (
          <p className="muted">No model is available to you yet. An owner adds providers and models under Admin → AI providers.</p>
        ) : (
          <Table
            caption="Models you may use"
            rows={models.data}
            rowKey={(m) => m.ref}
            columns={[
              { header: 'Model', cell: (m) => m.displayName ?? m.ref },
              { header: 'Provider', cell: (m) => m.provider },
              { header: 'Key used', cell: (m) => m.keySource },
            ]}
          />
        )}
      </Section>
    </Page>
  );
}
