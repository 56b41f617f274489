import { USAGE_CSV_PATH, type UsageGrouping, usageGroupings } from '@warren/core';
import { useState } from 'react';
import { useQuery } from '../api/hooks';
import { dateTime, formatNumber, formatUsd } from '../app/format';
import {
  EmptyState,
  ErrorMessage,
  FilterBar,
  LoadingBlock,
  Page,
  Section,
  SelectField,
  Table,
  TextField,
} from '../design';
import { BarChart } from './BarChart';

const ranges = [
  { value: '1', label: 'Last 24 hours' },
  { value: '7', label: 'Last 7 days' },
  { value: '30', label: 'Last 30 days' },
  { value: '365', label: 'Last year' },
];

const groupLabel: Record<UsageGrouping, string> = { user: 'User', model: 'Model', day: 'Day (UTC)' };

/** AI gateway usage: totals and charts by user, model or day, and the latest calls. */
export default function UsageScreen() {
  const [days, setDays] = useState('30');
  const [groupBy, setGroupBy] = useState<UsageGrouping>('user');
  const [user, setUser] = useState('');
  const since = new Date(Date.now() - Number(days) * 86_400_000);
  since.setUTCMinutes(0, 0, 0);
  const filter = { since: since.toISOString(), ...(user ? { user } : {}) };
  const key = `${days}:${user}`;
  const summary = useQuery(`usage:${key}:${groupBy}`, (api) =>
    api.ai.usage.summary.query({ ...filter, groupBy }),
  );
  const calls = useQuery(`usage:list:${key}`, (api) => api.ai.usage.list.query({ ...filter, limit: 50 }));
  const csv = `${USAGE_CSV_PATH}?${new URLSearchParams(filter).toString()}`;

  return (
    <Page title="AI usage" actions={<a href={csv}>Download CSV</a>}>
      <FilterBar label="Filter usage">
        <SelectField label="Period" value={days} onChange={(e) => setDays(e.target.value)} options={ranges} />
        <SelectField
          label="Group by"
          value={groupBy}
          onChange={(e) => setGroupBy(e.target.value as UsageGrouping)}
          options={usageGroupings.map((g) => ({ value: g, label: groupLabel[g] }))}
        />
        <TextField
          label="User"
          placeholder="everyone"
          value={user}
          onChange={(e) => setUser(e.target.value.trim())}
        />
      </FilterBar>
      <ErrorMessage>{summary.error ?? calls.error}</ErrorMessage>
      {summary.data === undefined ? (
        <LoadingBlock label="Adding up usage…" />
      ) : summary.data.groups.length === 0 ? (
        <EmptyState title="No AI calls in this period">
          Usage appears here once people call models through the Warren AI gateway, from chat or from their
          tools with a Warren token. Try a longer period.
        </EmptyState>
      ) : (
        <>
          <Section title={`Totals by ${groupBy}`}>
            <p>
              {formatNumber(summary.data.total.requests)} calls,{' '}
              {formatNumber(summary.data.total.inputTokens)} input and{' '}
              {formatNumber(summary.data.total.outputTokens)} output tokens,{' '}
              {formatUsd(summary.data.total.costUsd)}.
            </p>
            <div className="grid-2">
              <BarChart
                title={`Cost by ${groupBy}`}
                rows={summary.data.groups.map((g) => ({ key: g.key, value: Number(g.costUsd) }))}
                format={formatUsd}
              />
              <BarChart
                title={`Tokens by ${groupBy}`}
                rows={summary.data.groups.map((g) => ({ key: g.key, value: g.inputTokens + g.outputTokens }))}
                format={formatNumber}
              />
            </div>
            <Table
              caption={`Usage by ${groupBy}`}
              rows={summary.data.groups}
              rowKey={(g) => g.key}
              columns={[
                { header: groupLabel[groupBy], cell: (g) => g.key },
                { header: 'Calls', cell: (g) => formatNumber(g.requests), numeric: true },
                { header: 'Input tokens', cell: (g) => formatNumber(g.inputTokens), numeric: true },
                { header: 'Output tokens', cell: (g) => formatNumber(g.outputTokens), numeric: true },
                { header: 'Cached tokens', cell: (g) => formatNumber(g.cacheReadTokens), numeric: true },
                { header: 'Cost', cell: (g) => formatUsd(g.costUsd), numeric: true },
                {
                  header: 'Median first byte',
                  cell: (g) => (g.p50TtfbMs === null ? '—' : `${g.p50TtfbMs} ms`),
                  numeric: true,
                },
              ]}
            />
          </Section>
          <Section title="Latest calls">
            {calls.data === undefined ? (
              <LoadingBlock label="Loading calls…" />
            ) : (
              <Table
                caption="Latest AI calls"
                rows={calls.data}
                rowKey={(c) => c.id}
                columns={[
                  { header: 'Time', cell: (c) => dateTime(c.time) },
                  { header: 'User', cell: (c) => c.username ?? '—' },
                  { header: 'Model', cell: (c) => c.model },
                  { header: 'Status', cell: (c) => (c.error ? `${c.status}: ${c.error}` : c.status) },
                  {
                    header: 'Tokens in/out',
                    cell: (c) => `${c.inputTokens} / ${c.outputTokens}`,
                    numeric: true,
                  },
                  { header: 'Cost', cell: (c) => formatUsd(c.costUsd), numeric: true },
                  { header: 'Time taken', cell: (c) => `${c.totalMs} ms`, numeric: true },
                ]}
              />
            )}
          </Section>
        </>
      )}
    </Page>
  );
}
