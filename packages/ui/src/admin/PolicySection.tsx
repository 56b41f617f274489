import { type Role, roles } from '@warren/core';
import { type FormEvent, useState } from 'react';
import { useMutation, useQuery } from '../api/hooks';
import { formatUsd } from '../app/format';
import { Button, ErrorMessage, LoadingBlock, Section, SelectField, Table, TextField, toast } from '../design';

const orNone = (n: number | null, show: (n: number) => string = String) =>
  n === null ? 'no limit' : show(n);

/** Which roles may use which models (patterns like openai/*), and budgets and rate limits per user. */
export function PolicySection({ canEdit }: { canEdit: boolean }) {
  const policy = useQuery('ai:policy', (api) => api.ai.policy.get.query());
  return (
    <Section title="Policies and budgets">
      <ErrorMessage>{policy.error}</ErrorMessage>
      {policy.data === undefined ? (
        <LoadingBlock label="Loading policies…" />
      ) : (
        <>
          <p className="muted">
            {policy.data.restricted
              ? 'Each role may use only the models its patterns match.'
              : 'No role has a model list yet, so everyone may use every enabled model.'}
          </p>
          <Table
            caption="Models per role"
            showCaption
            rows={roles.map((role) => ({
              role,
              patterns: policy.data?.roleModels.find((r) => r.role === role)?.patterns ?? [],
            }))}
            rowKey={(r) => r.role}
            columns={[
              { header: 'Role', cell: (r) => r.role },
              { header: 'Model patterns', cell: (r) => (r.patterns.length ? r.patterns.join(', ') : '—') },
            ]}
          />
          {canEdit ? <RoleModelsForm onSaved={policy.reload} /> : null}
          {policy.data.limits.length === 0 ? (
            <p className="muted">No limits are set: nobody has a budget or a rate limit.</p>
          ) : (
            <Table
              caption="Budgets and rate limits"
              showCaption
              rows={policy.data.limits}
              rowKey={(l) => l.user}
              columns={[
                { header: 'User', cell: (l) => (l.user === '*' ? 'everyone (default)' : l.user) },
                { header: 'Daily budget', cell: (l) => orNone(l.dailyUsd, formatUsd), numeric: true },
                { header: 'Monthly budget', cell: (l) => orNone(l.monthlyUsd, formatUsd), numeric: true },
                { header: 'Requests / min', cell: (l) => orNone(l.rpm), numeric: true },
                { header: 'Tokens / min', cell: (l) => orNone(l.tpm), numeric: true },
              ]}
            />
          )}
          {canEdit ? <LimitsForm onSaved={policy.reload} /> : null}
        </>
      )}
    </Section>
  );
}

function RoleModelsForm({ onSaved }: { onSaved: () => void }) {
  const [role, setRole] = useState<Role>('member');
  const [patterns, setPatterns] = useState('');
  const save = useMutation((api, input: { role: Role; patterns: string[] }) =>
    api.ai.policy.setRoleModels.mutate(input),
  );
  async function submit(event: FormEvent) {
    event.preventDefault();
    const list = patterns
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    if (await save.run({ role, patterns: list })) {
      toast(`Models for ${role} were saved.`);
      onSaved();
    }
  }
  return (
    <form onSubmit={submit} className="filters" aria-label="Set a role's models">
      <SelectField
        label="Role"
        value={role}
        onChange={(e) => setRole(e.target.value as Role)}
        options={roles.map((r) => ({ value: r, label: r }))}
      />
      <TextField
        label="Model patterns"
        hint="Comma-separated, e.g. openai/*, anthropic/claude-*. Empty removes the role’s list."
        value={patterns}
        error={save.error}
        onChange={(e) => setPatterns(e.target.value)}
      />
      <div className="field">
        <Button type="submit" pending={save.pending}>
          Save role models
        </Button>
      </div>
    </form>
  );
}

function LimitsForm({ onSaved }: { onSaved: () => void }) {
  const [v, setV] = useState({ user: '*', dailyUsd: '', monthlyUsd: '', rpm: '', tpm: '' });
  const save = useMutation((api, input: typeof v) => {
    const num = (s: string) => (s.trim() === '' ? null : Number(s));
    return api.ai.policy.setLimits.mutate({
      user: input.user,
      limits: {
        dailyUsd: num(input.dailyUsd),
        monthlyUsd: num(input.monthlyUsd),
        rpm: num(input.rpm),
        tpm: num(input.tpm),
      },
    });
  });
  const bind = (key: keyof typeof v) => ({
    value: v[key],
    onChange: (e: { target: { value: string } }) => setV({ ...v, [key]: e.target.value }),
  });
  async function submit(event: FormEvent) {
    event.preventDefault();
    if (await save.run(v)) {
      toast(`Limits for ${v.user === '*' ? 'everyone' : v.user} were saved.`);
      onSaved();
    }
  }
  return (
    <form onSubmit={submit} className="filters" aria-label="Set limits">
      <TextField label="User" hint="* for everyone’s default" {...bind('user')} />
      <TextField label="Daily budget (USD)" inputMode="decimal" {...bind('dailyUsd')} />
      <TextField label="Monthly budget (USD)" inputMode="decimal" {...bind('monthlyUsd')} />
      <TextField label="Requests per minute" inputMode="numeric" {...bind('rpm')} />
      <TextField label="Tokens per minute" inputMode="numeric" {...bind('tpm')} />
      <div className="field">
        <Button type="submit" pending={save.pending}>
          Save limits
        </Button>
      </div>
      <ErrorMessage>{save.error}</ErrorMessage>
    </form>
  );
}
