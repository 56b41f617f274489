/** What a tray item does, as data: the Electron layer maps each kind to one call. */
export type WorkspaceActionKind =
  | 'start'
  | 'stop'
  | 'connect'
  | 'disconnect'
  | 'openTerminal'
  | 'openInVsCode'
  | 'copySshCommand'
  | 'openInBrowser';

export type TrayAction =
  | { kind: WorkspaceActionKind; workspace: string }
  | { kind: 'openChat'; chatId: string }
  | { kind: 'switchDeployment'; deploymentId: string }
  | { kind: 'openWindow' }
  | { kind: 'checkForUpdates' }
  | { kind: 'restartToUpdate' }
  | { kind: 'quit' };

export type TrayItem =
  | { type: 'separator' }
  | { type: 'label'; label: string }
  | { type: 'action'; label: string; action: TrayAction; enabled: boolean }
  | { type: 'submenu'; label: string; items: TrayItem[] };

/** One icon per connection state; build/ holds a PNG for each (`scripts/makeIcons.mjs`). */
export type TrayIcon = 'tray-connected' | 'tray-connecting' | 'tray-offline' | 'tray-signed-out';

export interface TrayMenu {
  icon: TrayIcon;
  tooltip: string;
  items: TrayItem[];
}

/** VS Code's Remote-SSH deep link: it opens PATH on the Host alias from the SSH config. */
export function vscodeUri(hostAlias: string, folder: string): string {
  const absolute = folder.startsWith('/') ? folder : `/${folder}`;
  return `vscode://vscode-remote/ssh-remote+${encodeURIComponent(hostAlias)}${encodeURI(absolute)}`;
}

/** What a person pastes into a terminal to get a shell (after the SSH config is written). */
export function sshCommand(hostAlias: string): string {
  return `ssh ${hostAlias}`;
}

/** The workspace's page in the web UI the daemon serves. */
export function workspacePageUrl(deploymentUrl: string, owner: string, name: string): string {
  return `${deploymentUrl}/workspaces/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
}
