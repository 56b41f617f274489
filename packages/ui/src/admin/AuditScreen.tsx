import { type AuditEntry, auditStatuses } from '@warren/core';
import { useState } from 'react';
import { useMutation, useQuery } from '../api/hooks';
import { dateTime } from '../app/format';
import {
  Button,
  EmptyState,
  ErrorMessage,
  FilterBar,
  LoadingBlock,
  Page,
  SelectField,
  StatusBadge,
  Table,
  TextField,
} from '../design';

const PAGE = 100;

/** Who did what, when, from where: newest first, filtered on the server, older pages on demand. */
export default function AuditScreen() {
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const [targetType, setTargetType] = useState('');
  const [status, setStatus] = useState('');
  const [older, setOlder] = useState<AuditEntry[][]>([]);
  const filter = {
    ...(actor ? { actor } : {}),
    ...(action ? { action } : {}),
    ...(targetType ? { targetType } : {}),
    ...(status ? { status: status as (typeof auditStatuses)[number] } : {}),
  };
  const first = useQuery(`audit:${JSON.stringify(filter)}`, async (api) => {
    setOlder([]);
    return (await api.audit.list.query({ ...filter, limit: PAGE })) as AuditEntry[];
  });
  const entries = [...(first.data ?? []), ...older.flat()];
  const lastPage = older.at(-1) ?? first.data ?? [];
  const more = useMutation(async (api, before: string | undefined) => {
    const page = (await api.audit.list.query({ ...filter, limit: PAGE, before })) as AuditEntry[];
    setOlder((pages) => [...pages, page]);
    return page;
  });

  return (
    <Page title="Audit log">
      <FilterBar label="Filter the audit log">
        <TextField
          label="Actor"
          placeholder="username"
          value={actor}
          onChange={(e) => setActor(e.target.value.trim())}
        />
        <TextField
          label="Action"
          placeholder="e.g. workspaces.create"
          value={action}
          onChange={(e) => setAction(e.target.value.trim())}
        />
        <TextField
          label="Target type"
          placeholder="e.g. workspace"
          value={targetType}
          onChange={(e) => setTargetType(e.target.value.trim())}
        />
        <SelectField
          label="Result"
          value={status}
          onChange={(e) => setStatus(e.target.value)}
          options={[
            { value: '', label: 'Any result' },
            ...auditStatuses.map((s) => ({ value: s, label: s })),
          ]}
        />
      </FilterBar>
      <ErrorMessage>{first.error ?? more.error}</ErrorMessage>
      {first.data === undefined ? (
        <LoadingBlock label="Loading the audit log…" />
      ) : entries.length === 0 ? (
        <EmptyState title="No audit entries match">
          Clear a filter to see more. Every change anyone makes is recorded here.
        </EmptyState>
      ) : (
        <>
          <Table
            caption="Audit log entries"
            rows={entries}
            rowKey={(e) => e.id}
            columns={[
              { header: 'Time', cell: (e) => dateTime(e.time) },
              { header: 'Actor', cell: (e) => e.actorUsername ?? 'anonymous' },
              { header: 'Action', cell: (e) => <code>{e.action}</code> },
              {
                header: 'Target',
                cell: (e) => (e.targetType ? `${e.targetType} ${e.targetName ?? e.targetId ?? ''}` : '—'),
              },
              { header: 'Result', cell: (e) => <StatusBadge status={e.status} /> },
              { header: 'Error', cell: (e) => e.errorCode ?? '' },
              { header: 'From', cell: (e) => e.sourceIp ?? '' },
            ]}
          />
          {lastPage.length === PAGE ? (
            <Button pending={more.pending} onClick={() => more.run(entries.at(-1)?.id)}>
              Load older entries
            </Button>
          ) : (
            <p className="muted">That is the oldest entry that matches.</p>
          )}
        </>
      )}
    </Page>
  );
}
