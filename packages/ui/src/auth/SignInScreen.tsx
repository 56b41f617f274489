import { loginInput } from '@warren/core';
import type { FormEvent } from 'react';
import { useApi } from '../api/ApiContext';
import { useMutation } from '../api/hooks';
import { useSession } from '../api/session';
import { useForm } from '../app/useForm';
import { Button, ErrorMessage, TextField } from '../design';

const signInForm = loginInput.pick({ login: true, password: true });

export default function SignInScreen() {
  const api = useApi();
  const form = useForm(signInForm, { login: '', password: '' });
  const signIn = useMutation((client, values: { login: string; password: string }) =>
    client.auth.login.mutate({ ...values, sessionIn: 'cookie' }),
  );

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!form.validate()) return;
    const { login = '', password = '' } = form.values;
    if (await signIn.run({ login, password })) await useSession.getState().refresh(api);
  }

  return (
    <main className="centered">
      <form className="card" onSubmit={submit} noValidate aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to Warren</h1>
        <p className="muted">Use the username or email and password your Warren administrator gave you.</p>
        <TextField
          label="Username or email"
          autoComplete="username"
          error={form.error('login')}
          {...form.bind('login')}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="current-password"
          error={form.error('password')}
          {...form.bind('password')}
        />
        <ErrorMessage>{signIn.error}</ErrorMessage>
        <Button type="submit" variant="primary" pending={signIn.pending}>
          Sign in
        </Button>
      </form>
    </main>
  );
}
