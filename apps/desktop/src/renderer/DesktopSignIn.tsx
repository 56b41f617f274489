import { Button, ErrorMessage, errorMessage, TextField } from '@warren/ui';
import { type FormEvent, useState } from 'react';
import { addDeploymentInput } from '../main/deployments/deploymentSchemas';
import { type DeploymentView, useDesktopApi } from './desktopApi';

type Field = 'url' | 'token' | 'name';

/**
 * Signs the desktop in to a Warren server: its address and a pasted API token. The token goes to
 * the main process once (which checks it, then keeps it in safeStorage) and is cleared from the
 * form; nothing the renderer receives afterwards carries it.
 */
export function DesktopSignIn({
  url = '',
  notice,
  onSignedIn,
  onCancel,
}: {
  /** The server to sign in to again, when its token stopped working. */
  url?: string | undefined;
  /** Why sign-in is asked for again, as a sentence. */
  notice?: string | undefined;
  onSignedIn: (deployment: DeploymentView) => void;
  /** Shown when another server is already signed in (adding a second one). */
  onCancel?: () => void;
}) {
  const desktop = useDesktopApi();
  const [values, setValues] = useState({ url, token: '', name: '' });
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [failure, setFailure] = useState<string>();
  const [pending, setPending] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const input = { url: values.url, token: values.token, name: values.name.trim() || undefined };
    // The main process checks the same schema; checking here first puts the sentence by its field.
    const parsed = addDeploymentInput.safeParse(input);
    if (!parsed.success) {
      const next: Partial<Record<Field, string>> = {};
      for (const issue of parsed.error.issues) next[issue.path[0] as Field] ??= issue.message;
      setErrors(next);
      return;
    }
    setErrors({});
    setFailure(undefined);
    setPending(true);
    try {
      const deployment = await desktop.deployments.add.mutate(input);
      setValues({ url: '', token: '', name: '' });
      onSignedIn(deployment);
    } catch (error) {
      setFailure(errorMessage(error));
    } finally {
      setPending(false);
    }
  }

  const bind = (key: Field) => ({
    value: values[key],
    error: errors[key],
    onChange: (e: { target: { value: string } }) => setValues({ ...values, [key]: e.target.value }),
  });
  return (
    <main className="centered">
      <form className="card" onSubmit={submit} noValidate aria-labelledby="desktop-signin-title">
        <h1 id="desktop-signin-title">Sign in to a Warren server</h1>
        <p className="muted">
          Paste an API token from the server's Settings → API tokens, or from{' '}
          <code>warren tokens create</code>. Warren desktop keeps it in your system's secure storage.
        </p>
        {notice ? (
          <p className="desktop-notice" role="status">
            {notice}
          </p>
        ) : null}
        <TextField
          label="Server address"
          type="url"
          placeholder="https://warren.example.com"
          autoComplete="url"
          {...bind('url')}
        />
        <TextField label="API token" type="password" autoComplete="off" {...bind('token')} />
        <TextField
          label="Name (optional)"
          hint="Shown in the tray; the host name when empty."
          {...bind('name')}
        />
        <ErrorMessage>{failure}</ErrorMessage>
        <div className="row">
          <Button type="submit" variant="primary" pending={pending}>
            Sign in
          </Button>
          {onCancel ? <Button onClick={onCancel}>Cancel</Button> : null}
        </div>
      </form>
    </main>
  );
}
