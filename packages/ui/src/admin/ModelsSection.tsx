import { type FormEvent, useState } from 'react';
import { useMutation, useQuery } from '../api/hooks';
import { formatUsd } from '../app/format';
import {
  Badge,
  Button,
  Dialog,
  EmptyState,
  ErrorMessage,
  LoadingBlock,
  Section,
  Table,
  TextField,
  toast,
} from '../design';

/** Models and their prices (USD per million tokens), which usage costs are computed from. */
export function ModelsSection({ canEdit }: { canEdit: boolean }) {
  const models = useQuery('ai:models', (api) => api.ai.models.list.query());
  const [adding, setAdding] = useState(false);
  return (
    <Section
      title="Models"
      actions={canEdit ? <Button onClick={() => setAdding(true)}>Add model</Button> : null}
    >
      <ErrorMessage>{models.error}</ErrorMessage>
      {models.data === undefined ? (
        <LoadingBlock label="Loading models…" />
      ) : models.data.length === 0 ? (
        <EmptyState title="No models yet">
          Add a model to a provider, with its prices, so people can use it.
        </EmptyState>
      ) : (
        <Table
          caption="Models"
          rows={models.data}
          rowKey={(m) => m.id}
          columns={[
            { header: 'Model', cell: (m) => m.displayName ?? m.ref },
            { header: 'Provider', cell: (m) => m.provider },
            { header: 'Input / 1M', cell: (m) => formatUsd(m.inputPrice), numeric: true },
            { header: 'Output / 1M', cell: (m) => formatUsd(m.outputPrice), numeric: true },
            {
              header: 'State',
              cell: (m) => (
                <Badge tone={m.enabled ? 'good' : 'neutral'}>{m.enabled ? 'enabled' : 'disabled'}</Badge>
              ),
            },
          ]}
        />
      )}
      {adding ? (
        <AddModelDialog
          onClose={() => setAdding(false)}
          onAdded={() => {
            setAdding(false);
            models.reload();
          }}
        />
      ) : null}
    </Section>
  );
}

function AddModelDialog({ onClose, onAdded }: { onClose: () => void; onAdded: () => void }) {
  const [v, setV] = useState({ provider: '', name: '', inputPrice: '', outputPrice: '' });
  const add = useMutation((api, input: typeof v) =>
    api.ai.models.upsert.mutate({
      ...input,
      inputPrice: Number(input.inputPrice),
      outputPrice: Number(input.outputPrice),
    }),
  );
  const priceError = (key: 'inputPrice' | 'outputPrice') =>
    v[key] !== '' && !Number.isFinite(Number(v[key]))
      ? 'Give the price as a number, such as 0.15.'
      : undefined;
  const bind = (key: keyof typeof v) => ({
    value: v[key],
    onChange: (e: { target: { value: string } }) => setV({ ...v, [key]: e.target.value }),
  });
  async function submit(event: FormEvent) {
    event.preventDefault();
    if (priceError('inputPrice') || priceError('outputPrice')) return;
    if (await add.run(v)) {
      toast(`Model ${v.provider}/${v.name} was saved.`);
      onAdded();
    }
  }
  return (
    <Dialog open title="Add model" onClose={onClose}>
      <form onSubmit={submit} aria-label="Add model">
        <TextField label="Provider" {...bind('provider')} />
        <TextField label="Model name" hint="As the provider names it, e.g. gpt-4o-mini." {...bind('name')} />
        <TextField
          label="Input price (USD per million tokens)"
          inputMode="decimal"
          error={priceError('inputPrice')}
          {...bind('inputPrice')}
        />
        <TextField
          label="Output price (USD per million tokens)"
          inputMode="decimal"
          error={priceError('outputPrice')}
          {...bind('outputPrice')}
        />
        <ErrorMessage>{add.error}</ErrorMessage>
        <div className="dialog-footer">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" pending={add.pending}>
            Save model
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
