import { Button } from '@warren/ui';
import { useState } from 'react';
import { type DeploymentView, useDesktopApi } from './desktopApi';
import { LocalPortsDialog } from './LocalPortsDialog';
import { useTunnels } from './useDesktopState';

/**
 * The desktop's own strip above the screens: which server this window shows (and switching to
 * another), adding a server, and the local ports. The rest of the window is packages/ui.
 */
export function DesktopBar({
  deployments,
  onSwitch,
  onAddServer,
}: {
  deployments: DeploymentView[];
  onSwitch: (id: string) => void;
  onAddServer: () => void;
}) {
  const desktop = useDesktopApi();
  const { tunnels, tooltip } = useTunnels(desktop);
  const [portsOpen, setPortsOpen] = useState(false);
  const active = deployments.find((d) => d.active);
  const live = tunnels.filter((t) => t.state === 'connected').length;
  return (
    <section className="desktop-bar" aria-label="Warren desktop">
      <label className="desktop-bar-server">
        <span>Server</span>
        <select className="input" value={active?.id ?? ''} onChange={(e) => onSwitch(e.target.value)}>
          {deployments.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name} ({d.url})
            </option>
          ))}
        </select>
      </label>
      <Button variant="ghost" onClick={onAddServer}>
        Add server
      </Button>
      <Button variant="ghost" onClick={() => setPortsOpen(true)}>
        Local ports{live > 0 ? ` (${live} connected)` : ''}
      </Button>
      <span className="muted desktop-bar-state" role="status">
        {tooltip}
      </span>
      <LocalPortsDialog open={portsOpen} onClose={() => setPortsOpen(false)} />
    </section>
  );
}
