import { changePasswordInput } from '@warren/core';
import type { FormEvent } from 'react';
import { useMutation } from '../api/hooks';
import { useCurrentUser } from '../api/session';
import { dateTime } from '../app/format';
import { useForm } from '../app/useForm';
import { Button, DefinitionList, ErrorMessage, Section, TextField, toast } from '../design';

export function ProfileSettings() {
  const user = useCurrentUser();
  const form = useForm(changePasswordInput, { currentPassword: '', newPassword: '' });
  const change = useMutation((api, input: { currentPassword: string; newPassword: string }) =>
    api.auth.changePassword.mutate(input),
  );
  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!form.validate()) return;
    const { currentPassword = '', newPassword = '' } = form.values;
    if (await change.run({ currentPassword, newPassword })) toast('Your password was changed.');
  }
  return (
    <div className="grid-2">
      <Section title="Profile">
        <DefinitionList
          items={[
            ['Username', user.username],
            ['Email', user.email],
            ['Roles', user.roles.join(', ') || 'member'],
            ['Member since', dateTime(user.createdAt)],
          ]}
        />
      </Section>
      <Section title="Change password">
        <form onSubmit={submit} noValidate aria-label="Change password">
          <TextField
            label="Current password"
            type="password"
            autoComplete="current-password"
            error={form.error('currentPassword')}
            {...form.bind('currentPassword')}
          />
          <TextField
            label="New password"
            type="password"
            autoComplete="new-password"
            hint="At least 8 characters."
            error={form.error('newPassword')}
            {...form.bind('newPassword')}
          />
          <ErrorMessage>{change.error}</ErrorMessage>
          <Button type="submit" variant="primary" pending={change.pending}>
            Change password
          </Button>
        </form>
      </Section>
    </div>
  );
}
