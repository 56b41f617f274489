import {
  Badge,
  Button,
  CheckboxField,
  Dialog,
  ErrorMessage,
  errorMessage,
  SelectField,
  TextField,
  type Tone,
  useApi,
} from '@warren/ui';
import { type FormEvent, useEffect, useState } from 'react';
import type { TunnelState } from '../main/tunnels/tunnelTypes';
import { type TunnelView, useDesktopApi, type WireguardSettingView } from './desktopApi';
import { useTunnels } from './useDesktopState';

const tones: Record<TunnelState, Tone> = {
  off: 'neutral',
  connecting: 'busy',
  connected: 'good',
  reconnecting: 'warn',
  failed: 'bad',
};

/**
 * Ports of a workspace on this computer's localhost: saved per workspace by the main process,
 * which serves them through the relay tunnel, or over WireGuard where the person turned it on and
 * this computer can run it, and redials them when they drop.
 */
export function LocalPortsDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const api = useApi();
  const desktop = useDesktopApi();
  const { tunnels } = useTunnels(desktop);
  const [workspaces, setWorkspaces] = useState<string[]>([]);
  const [form, setForm] = useState({ workspace: '', spec: '' });
  const [failure, setFailure] = useState<string>();
  const [pending, setPending] = useState(false);
  const [wireguard, setWireguard] = useState<WireguardSettingView>();

  useEffect(() => {
    if (!open) return;
    desktop.tunnels.wireguard
      .query()
      .then(setWireguard)
      .catch((error) => setFailure(errorMessage(error)));
  }, [desktop, open]);

  useEffect(() => {
    if (!open) return;
    api.workspaces.list
      .query()
      .then((list) => {
        const names = list.map((w) => w.name);
        setWorkspaces(names);
        setForm((f) => ({ ...f, workspace: f.workspace || names[0] || '' }));
      })
      .catch((error) => setFailure(errorMessage(error)));
  }, [api, open]);

  /** Runs one desktop call, showing its failure (a busy port, a stopped workspace) as the dialog's error. */
  async function act(action: () => Promise<unknown>) {
    setFailure(undefined);
    setPending(true);
    try {
      await action();
      return true;
    } catch (error) {
      setFailure(errorMessage(error));
      return false;
    } finally {
      setPending(false);
    }
  }

  async function add(event: FormEvent) {
    event.preventDefault();
    const { workspace, spec } = form;
    const added = await act(async () => {
      await desktop.tunnels.addForward.mutate({ workspace, spec: spec.trim() });
      await desktop.tunnels.open.mutate({ workspace });
    });
    if (added) setForm({ ...form, spec: '' });
  }

  return (
    <Dialog
      open={open}
      title="Local ports"
      onClose={onClose}
      footer={<Button onClick={onClose}>Close</Button>}
    >
      <CheckboxField
        label="Use WireGuard for this server's ports"
        hint="Needs wireguard-go and root (or CAP_NET_ADMIN) on this computer, and WireGuard mode on the server; otherwise ports go through the relay."
        checked={wireguard?.on ?? false}
        disabled={!wireguard || pending}
        onChange={(e) => {
          const on = e.target.checked;
          void act(async () => setWireguard(await desktop.tunnels.setWireguard.mutate({ on })));
        }}
      />
      {wireguard?.notice ? (
        <p className="muted" role="status">
          {wireguard.notice}
        </p>
      ) : null}
      {tunnels.length === 0 ? (
        <p className="muted">No ports yet. Forward one of a workspace's ports to localhost below.</p>
      ) : (
        <ul className="desktop-tunnels" aria-label="Forwarded ports">
          {tunnels.map((t) => (
            <TunnelRow key={t.workspace} tunnel={t} act={act} />
          ))}
        </ul>
      )}
      <form onSubmit={add} aria-label="Forward a port" className="desktop-forward-form">
        <SelectField
          label="Workspace"
          options={workspaces.map((name) => ({ value: name, label: name }))}
          value={form.workspace}
          onChange={(e) => setForm({ ...form, workspace: e.target.value })}
        />
        <TextField
          label="Port"
          hint="The workspace's port (3000), or this computer's port and the workspace's (8080:3000)."
          value={form.spec}
          onChange={(e) => setForm({ ...form, spec: e.target.value })}
        />
        <ErrorMessage>{failure}</ErrorMessage>
        <Button
          type="submit"
          variant="primary"
          pending={pending}
          disabled={!form.workspace || !form.spec.trim()}
        >
          Forward and connect
        </Button>
      </form>
    </Dialog>
  );
}

function TunnelRow({
  tunnel,
  act,
}: {
  tunnel: TunnelView;
  act: (action: () => Promise<unknown>) => Promise<boolean>;
}) {
  const desktop = useDesktopApi();
  const { workspace, state } = tunnel;
  const on = state !== 'off' && state !== 'failed';
  return (
    <li aria-label={`Ports of ${workspace}`}>
      <div className="row">
        <strong>{workspace}</strong>
        <Badge tone={tones[state]}>{state}</Badge>
        {tunnel.via === 'wireguard' && on ? <span className="muted">over WireGuard</span> : null}
        {on ? (
          <Button onClick={() => act(() => desktop.tunnels.close.mutate({ workspace }))}>Disconnect</Button>
        ) : (
          <Button onClick={() => act(() => desktop.tunnels.open.mutate({ workspace }))}>Connect</Button>
        )}
      </div>
      {tunnel.detail ? <p className="muted">{tunnel.detail}</p> : null}
      {tunnel.notice ? <p className="muted">{tunnel.notice}</p> : null}
      <ul>
        {tunnel.forwards.map((f) => (
          <li key={f.localPort} className="row">
            {/* The main process opens http(s) links in the system browser. */}
            <a href={`http://localhost:${f.localPort}/`} target="_blank" rel="noreferrer">
              localhost:{f.localPort}
            </a>
            <span>→ port {f.remotePort}</span>
            <Button
              variant="ghost"
              aria-label={`Remove localhost:${f.localPort}`}
              onClick={() =>
                act(() => desktop.tunnels.removeForward.mutate({ workspace, localPort: f.localPort }))
              }
            >
              Remove
            </Button>
          </li>
        ))}
      </ul>
    </li>
  );
}
