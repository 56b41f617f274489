import { createFirstUserInput } from '@warren/core';
import type { FormEvent } from 'react';
import { useApi } from '../api/ApiContext';
import { useMutation } from '../api/hooks';
import { useSession } from '../api/session';
import { useForm } from '../app/useForm';
import { Button, ErrorMessage, TextField } from '../design';

/** First run: the first account becomes the owner, then signs in with a session cookie. */
export default function SetupScreen() {
  const api = useApi();
  const form = useForm(createFirstUserInput, { username: '', email: '', password: '' });
  const create = useMutation(
    async (client, values: { username: string; email: string; password: string }) => {
      await client.setup.createFirstUser.mutate(values);
      await client.auth.login.mutate({
        login: values.username,
        password: values.password,
        sessionIn: 'cookie',
      });
      return true;
    },
  );

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!form.validate()) return;
    const { username = '', email = '', password = '' } = form.values;
    if (await create.run({ username, email, password })) await useSession.getState().refresh(api);
  }

  return (
    <main className="centered">
      <form className="card" onSubmit={submit} noValidate aria-labelledby="setup-title">
        <h1 id="setup-title">Welcome to Warren</h1>
        <p className="muted">
          Create the first account. It becomes the owner: it can add people, templates and AI providers.
        </p>
        <TextField
          label="Username"
          autoComplete="username"
          error={form.error('username')}
          {...form.bind('username')}
        />
        <TextField
          label="Email"
          type="email"
          autoComplete="email"
          error={form.error('email')}
          {...form.bind('email')}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="new-password"
          hint="At least 8 characters."
          error={form.error('password')}
          {...form.bind('password')}
        />
        <ErrorMessage>{create.error}</ErrorMessage>
        <Button type="submit" variant="primary" pending={create.pending}>
          Create owner account
        </Button>
      </form>
    </main>
  );
}
