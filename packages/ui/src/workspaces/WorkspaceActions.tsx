import { useState } from 'react';
import { useMutation } from '../api/hooks';
import { Button, ConfirmDialog, toast } from '../design';
import { busyStatuses, type Workspace } from './workspaceStore';

type Verb = 'start' | 'stop' | 'restart' | 'update' | 'delete' | 'cancel';

const confirmText: Record<Verb, { title: string; message: string; label: string; danger?: boolean }> = {
  start: { title: 'Start workspace', message: 'Warren builds and starts it.', label: 'Start' },
  stop: {
    title: 'Stop workspace',
    message: 'Running programs and open terminals end. Files in the home directory are kept.',
    label: 'Stop',
  },
  restart: {
    title: 'Restart workspace',
    message: 'It stops and starts again: running programs and open terminals end.',
    label: 'Restart',
  },
  update: {
    title: 'Update to the active template version',
    message: 'The workspace is rebuilt with the template’s active version; it restarts if it is running.',
    label: 'Update',
  },
  delete: {
    title: 'Delete workspace',
    message: 'Its resources and its home directory are removed. This cannot be undone.',
    label: 'Delete',
    danger: true,
  },
  cancel: {
    title: 'Cancel the build',
    message: 'The running build stops where it is.',
    label: 'Cancel build',
  },
};

/** Start/stop/restart/update/delete, each after a confirmation that says what it will do. */
export function WorkspaceActions({
  workspace,
  onDone,
}: {
  workspace: Workspace;
  onDone?: (verb: Verb) => void;
}) {
  const [asking, setAsking] = useState<Verb>();
  const action = useMutation((api, verb: Verb) => {
    const ref = { owner: workspace.owner, name: workspace.name };
    if (verb === 'delete') return api.workspaces.delete.mutate(ref);
    if (verb === 'update') return api.workspaces.update.mutate(ref);
    return api.workspaces[verb].mutate(ref);
  });
  const busy = busyStatuses.has(workspace.status);
  const running = workspace.status === 'running';
  const verbs: Verb[] = busy
    ? ['cancel']
    : [
        ...(running ? (['stop', 'restart'] as const) : (['start'] as const)),
        ...(workspace.outdated ? (['update'] as const) : []),
        'delete',
      ];
  const text = asking ? confirmText[asking] : undefined;
  return (
    <div className="row">
      {verbs.map((verb) => (
        <Button
          key={verb}
          variant={verb === 'delete' ? 'danger' : verb === 'start' ? 'primary' : 'secondary'}
          onClick={() => {
            action.reset();
            setAsking(verb);
          }}
        >
          {confirmText[verb].label}
        </Button>
      ))}
      <ConfirmDialog
        open={asking !== undefined}
        title={text ? `${text.title} ${workspace.name}?` : ''}
        message={text?.message ?? ''}
        confirmLabel={text?.label ?? ''}
        danger={text?.danger}
        pending={action.pending}
        error={action.error}
        onCancel={() => setAsking(undefined)}
        onConfirm={async () => {
          if (!asking) return;
          const verb = asking;
          if (await action.run(verb)) {
            setAsking(undefined);
            toast(`${confirmText[verb].label}: ${workspace.name} — request sent.`);
            onDone?.(verb);
          }
        }}
      />
    </div>
  );
}
