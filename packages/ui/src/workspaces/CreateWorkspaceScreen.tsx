import { type TemplateParameter, workspaceNameSchema } from '@warren/core';
import { type FormEvent, useMemo, useState } from 'react';
import { useMutation, useQuery } from '../api/hooks';
import { navigate, queryParam, useRouter } from '../app/router';
import {
  Button,
  EmptyState,
  ErrorMessage,
  Link,
  LoadingBlock,
  Page,
  Section,
  SelectField,
  TextField,
} from '../design';
import {
  checkParameterInputs,
  initialParameterInputs,
  ParameterForm,
  type ParameterInput,
} from './ParameterForm';
import { workspacePath } from './workspaceStore';

function nameError(name: string): string | undefined {
  const result = workspaceNameSchema.safeParse(name);
  return result.success ? undefined : result.error.issues[0]?.message;
}

/** Create from a template: pick one, fill its generated parameter form, watch the build on the next page. */
export default function CreateWorkspaceScreen() {
  const path = useRouter((s) => s.path);
  const templates = useQuery('templates', (api) => api.templates.list.query());
  const [chosen, setChosen] = useState<string | undefined>(queryParam(path, 'template'));
  const templateName = chosen ?? templates.data?.find((t) => t.activeVersion !== null)?.name;

  return (
    <Page title="New workspace">
      <ErrorMessage>{templates.error}</ErrorMessage>
      {templates.data === undefined ? (
        <LoadingBlock label="Loading templates…" />
      ) : templates.data.length === 0 ? (
        <EmptyState title="No templates yet" action={<Link to="/templates">How to push a template</Link>}>
          A workspace is built from a template. Ask a template admin to push one, or push one yourself with
          the CLI.
        </EmptyState>
      ) : (
        <Section title="Build it from a template">
          <SelectField
            label="Template"
            value={templateName ?? ''}
            onChange={(e) => setChosen(e.target.value)}
            options={templates.data.map((t) => ({
              value: t.name,
              label: `${t.displayName ?? t.name}${t.activeVersion === null ? ' (no active version)' : ''}`,
            }))}
            hint={templates.data.find((t) => t.name === templateName)?.description ?? undefined}
          />
          {templateName ? <CreateForm key={templateName} template={templateName} /> : null}
        </Section>
      )}
    </Page>
  );
}

function CreateForm({ template }: { template: string }) {
  const manifest = useQuery(`template:${template}`, (api) => api.templates.get.query({ name: template }));
  if (manifest.error) return <ErrorMessage>{manifest.error}</ErrorMessage>;
  if (!manifest.data) return <LoadingBlock label="Loading the template’s parameters…" />;
  return (
    <ParametersAndName
      template={template}
      version={manifest.data.version}
      parameters={manifest.data.manifest.parameters as TemplateParameter[]}
    />
  );
}

function ParametersAndName({
  template,
  version,
  parameters,
}: {
  template: string;
  version: number;
  parameters: TemplateParameter[];
}) {
  const [name, setName] = useState('');
  const [inputs, setInputs] = useState(() => initialParameterInputs(parameters));
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const checked = useMemo(() => checkParameterInputs(parameters, inputs), [parameters, inputs]);
  const create = useMutation((api, values: Parameters<typeof api.workspaces.create.mutate>[0]) =>
    api.workspaces.create.mutate(values),
  );
  const shownError = (key: string) => (touched[key] ? checked.errors[key] : undefined);
  const nameProblem = touched.__name ? nameError(name) : undefined;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setTouched({ __name: true, ...Object.fromEntries(parameters.map((p) => [p.name, true])) });
    const badName = nameError(name);
    const firstBad = badName ? 'workspace-name' : Object.keys(checked.errors)[0];
    if (firstBad) {
      document.querySelector<HTMLElement>(`[name="${badName ? firstBad : `param-${firstBad}`}"]`)?.focus();
      return;
    }
    const created = await create.run({ name, template, parameters: checked.values });
    if (created) navigate(workspacePath(created));
  }

  return (
    <form onSubmit={submit} noValidate aria-label="Create workspace">
      <p className="muted">
        Version {version} of {template}.
      </p>
      <TextField
        label="Workspace name"
        name="workspace-name"
        hint="Lowercase letters, digits and “-”; at most 32 characters."
        value={name}
        error={nameProblem}
        onChange={(e) => setName(e.target.value)}
        onBlur={() => setTouched((t) => ({ ...t, __name: true }))}
      />
      <h3>Parameters</h3>
      <ParameterForm
        parameters={parameters}
        inputs={inputs}
        errors={Object.fromEntries(parameters.map((p) => [p.name, shownError(p.name)]))}
        onChange={(key: string, value: ParameterInput) => setInputs((i) => ({ ...i, [key]: value }))}
        onBlur={(key) => setTouched((t) => ({ ...t, [key]: true }))}
      />
      <ErrorMessage>{create.error}</ErrorMessage>
      <div className="row">
        <Button type="submit" variant="primary" pending={create.pending}>
          Create workspace
        </Button>
        <Button onClick={() => navigate('/workspaces')}>Cancel</Button>
      </div>
    </form>
  );
}
