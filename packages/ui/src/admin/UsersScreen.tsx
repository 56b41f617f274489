import { createUserInput, type Role, roles } from '@warren/core';
import { type FormEvent, useState } from 'react';
import { useMutation, useQuery } from '../api/hooks';
import { hasRole, useCurrentUser } from '../api/session';
import { timeAgo } from '../app/format';
import { useForm } from '../app/useForm';
import {
  Button,
  CheckboxField,
  ConfirmDialog,
  Dialog,
  EmptyState,
  ErrorMessage,
  FilterBar,
  LoadingBlock,
  Page,
  StatusBadge,
  Table,
  TextField,
  toast,
} from '../design';

type UserRow = { username: string; email: string; status: string; roles: Role[]; lastSeenAt: string | null };
const newUserForm = createUserInput.pick({ username: true, email: true, password: true });

/** People and their roles; user admins and owners change them, auditors read. */
export default function UsersScreen() {
  const me = useCurrentUser();
  const canEdit = hasRole(me, 'user-admin');
  const [search, setSearch] = useState('');
  const users = useQuery(`users:${search}`, (api) => api.users.list.query(search ? { search } : undefined));
  const [editing, setEditing] = useState<UserRow>();
  const [adding, setAdding] = useState(false);
  const [suspending, setSuspending] = useState<UserRow>();
  const status = useMutation((api, u: UserRow) =>
    u.status === 'active'
      ? api.users.suspend.mutate({ username: u.username })
      : api.users.activate.mutate({ username: u.username }),
  );
  const list = (users.data ?? []) as UserRow[];

  return (
    <Page
      title="Users"
      actions={
        canEdit ? (
          <Button variant="primary" onClick={() => setAdding(true)}>
            Add user
          </Button>
        ) : null
      }
    >
      <FilterBar label="Find users">
        <TextField label="Search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
      </FilterBar>
      <ErrorMessage>{users.error}</ErrorMessage>
      {users.data === undefined ? (
        <LoadingBlock label="Loading users…" />
      ) : list.length === 0 ? (
        <EmptyState title="No user matches">Clear the search, or add a user.</EmptyState>
      ) : (
        <Table
          caption="Users"
          rows={list}
          rowKey={(u) => u.username}
          columns={[
            { header: 'Username', cell: (u) => u.username },
            { header: 'Email', cell: (u) => u.email },
            { header: 'Roles', cell: (u) => u.roles.join(', ') || 'member' },
            { header: 'Status', cell: (u) => <StatusBadge status={u.status} /> },
            { header: 'Last seen', cell: (u) => timeAgo(u.lastSeenAt) },
            ...(canEdit
              ? [
                  {
                    header: 'Change',
                    cell: (u: UserRow) => (
                      <div className="row">
                        <Button onClick={() => setEditing(u)}>Roles of {u.username}</Button>
                        {u.username === me.username ? null : (
                          <Button
                            variant={u.status === 'active' ? 'danger' : 'secondary'}
                            onClick={() => setSuspending(u)}
                          >
                            {u.status === 'active' ? 'Suspend' : 'Reactivate'}
                          </Button>
                        )}
                      </div>
                    ),
                  },
                ]
              : []),
          ]}
        />
      )}
      {editing ? (
        <RolesDialog user={editing} onClose={() => setEditing(undefined)} onSaved={users.reload} />
      ) : null}
      {/* Mounted only while open, so a password typed and abandoned is gone when it opens again. */}
      {adding ? <AddUserDialog onClose={() => setAdding(false)} onAdded={users.reload} /> : null}
      <ConfirmDialog
        open={suspending !== undefined}
        title={`${suspending?.status === 'active' ? 'Suspend' : 'Reactivate'} ${suspending?.username ?? ''}?`}
        message={
          suspending?.status === 'active'
            ? 'They are signed out everywhere and cannot sign in until reactivated. Their workspaces stay.'
            : 'They can sign in again.'
        }
        confirmLabel={suspending?.status === 'active' ? 'Suspend' : 'Reactivate'}
        danger={suspending?.status === 'active'}
        pending={status.pending}
        error={status.error}
        onCancel={() => setSuspending(undefined)}
        onConfirm={async () => {
          if (suspending && (await status.run(suspending))) {
            setSuspending(undefined);
            users.reload();
          }
        }}
      />
    </Page>
  );
}

function RolesDialog({
  user,
  onClose,
  onSaved,
}: {
  user: UserRow;
  onClose: () => void;
  onSaved: () => void;
}) {
  const [chosen, setChosen] = useState<Set<Role>>(new Set(user.roles));
  const save = useMutation((api, list: Role[]) =>
    api.users.setRoles.mutate({ username: user.username, roles: list }),
  );
  return (
    <Dialog
      open
      title={`Roles of ${user.username}`}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button
            variant="primary"
            pending={save.pending}
            onClick={async () => {
              if (await save.run([...chosen])) {
                toast(`Roles of ${user.username} were saved.`);
                onSaved();
                onClose();
              }
            }}
          >
            Save roles
          </Button>
        </>
      }
    >
      <fieldset>
        <legend>Everyone is a member; these add permissions.</legend>
        {roles
          .filter((r) => r !== 'member')
          .map((role) => (
            <CheckboxField
              key={role}
              label={role}
              checked={chosen.has(role)}
              onChange={(e) => {
                const next = new Set(chosen);
                if (e.target.checked) next.add(role);
                else next.delete(role);
                setChosen(next);
              }}
            />
          ))}
      </fieldset>
      <ErrorMessage>{save.error}</ErrorMessage>
    </Dialog>
  );
}

function AddUserDialog({ onClose, onAdded }: { onClose: () => void; onAdded: () => void }) {
  const form = useForm(newUserForm, { username: '', email: '', password: '' });
  const add = useMutation((api, input: { username: string; email: string; password: string }) =>
    api.users.create.mutate(input),
  );
  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!form.validate()) return;
    const { username = '', email = '', password = '' } = form.values;
    if (await add.run({ username, email, password })) {
      toast(`User ${username} was added. Give them their password in person.`);
      onAdded();
      onClose();
    }
  }
  return (
    <Dialog open title="Add user" onClose={onClose}>
      <form onSubmit={submit} noValidate aria-label="Add user">
        <TextField
          label="Username"
          autoComplete="off"
          error={form.error('username')}
          {...form.bind('username')}
        />
        <TextField
          label="Email"
          type="email"
          autoComplete="off"
          error={form.error('email')}
          {...form.bind('email')}
        />
        <TextField
          label="First password"
          type="password"
          autoComplete="new-password"
          hint="They can change it under Settings."
          error={form.error('password')}
          {...form.bind('password')}
        />
        <ErrorMessage>{add.error}</ErrorMessage>
        <div className="dialog-footer">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" pending={add.pending}>
            Add user
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
