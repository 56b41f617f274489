import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { TRPCUntypedClient } from '@trpc/client';
import { Secret, WarrenError } from '@warren/core';
import {
  connectWorkspaceSsh,
  type ForwardConnection,
  loadOrCreateDeviceKey,
  type SshKeyPair,
  sshHostAlias,
  wireguardControl,
} from '@warren/core/node';
import type { AppRouter } from './api/AppRouter';
import { createDaemonClient, createUntypedDaemonClient, type DaemonClient } from './api/daemonClient';
import type { DeepLink } from './deepLinks/deepLink';
import { DeploymentStore } from './deployments/DeploymentStore';
import {
  type AddDeploymentInput,
  type Deployment,
  parseAddDeploymentInput,
} from './deployments/deploymentSchemas';
import type { SafeStorage } from './deployments/SafeStorage';
import { desktopRouter } from './ipc/desktopRouter';
import { IpcApiServer } from './ipc/IpcApiServer';
import type { Logger } from './log/desktopLog';
import { type DesktopNotification, tunnelDropped, WorkspaceNotifier } from './notifications/notifications';
import { proxyCommandLine, SshConfigWriter } from './ssh/SshConfigWriter';
import { SshProxyServer } from './ssh/SshProxyServer';
import { buildTrayMenu } from './tray/buildTrayMenu';
import { sshCommand, type TrayAction, type TrayMenu, vscodeUri, workspacePageUrl } from './tray/trayActions';
import { TunnelManager, type TunnelRoute } from './tunnels/TunnelManager';
import { TunnelStore } from './tunnels/TunnelStore';
import { WireguardMode } from './tunnels/WireguardMode';
import { AppUpdates, type AppUpdatesOptions } from './updates/AppUpdates';
import { WorkspaceState } from './workspaces/WorkspaceState';

/** What the main process asks of the OS; the Electron layer implements it with shell, clipboard, Notification. */
export interface DesktopPlatform {
  openExternal(url: string): void;
  copyText(text: string): void;
  /** Opens a terminal window running `command` (an `ssh warren.NAME`). */
  openTerminal(command: string): void;
  notify(notification: DesktopNotification): void;
  /** Shows the window, at a renderer route when given. */
  openWindow(route?: string): void;
  quit(): void;
}

export interface DesktopMainOptions {
  userDataDir: string;
  /** Where `config` and the include file go; ~/.ssh in the app. */
  sshDir: string;
  safeStorage: SafeStorage;
  platform: DesktopPlatform;
  log: Logger;
  /** How OpenSSH runs the proxy script: the runtime binary, the script, and env for it. */
  proxy: { runtime: string; script: string; env?: Record<string, string>; socketPath?: string };
  /**
   * WireGuard mode's helper: wireguard-go's path when it is not on PATH, and the device's
   * interface name (default a random `wgc…` one).
   */
  wireguard?: { binary?: string; interfaceName?: string };
  /** App updates (electron-updater behind an interface); without it the tray offers none. */
  updates?: Omit<AppUpdatesOptions, 'log' | 'notify'>;
}

/** The WireGuard setting of the live deployment, and why it is not used when it is on but cannot run. */
export interface WireguardSetting {
  on: boolean;
  notice: string | undefined;
}

interface Session {
  deployment: Deployment;
  client: DaemonClient;
  untyped: TRPCUntypedClient<AppRouter>;
  workspaces: WorkspaceState;
  tunnels: TunnelManager;
  wireguard: WireguardMode;
  notifier: WorkspaceNotifier;
}

export interface DesktopMainEvents {
  /** The tray should be rebuilt. */
  change: [];
}

const AUTOSTOP_CHECK_MS = 30_000;
const AGENT_WAIT_MS = 10_000;

/**
 * The desktop's main process without Electron: the deployments, the active deployment's live
 * workspaces and tunnels, the SSH config and its proxy, notifications and the tray menu as data.
 * One deployment is live at a time; switching closes the old one's tunnels and subscription.
 */
export class DesktopMain extends EventEmitter<DesktopMainEvents> {
  readonly deployments: DeploymentStore;
  readonly #tunnelStore: TunnelStore;
  readonly #sshConfig: SshConfigWriter;
  readonly #proxy: SshProxyServer;
  readonly #deviceKey: () => SshKeyPair;
  readonly #updates: AppUpdates | undefined;
  #session: Session | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: DesktopMainOptions) {
    super();
    const sshState = path.join(options.userDataDir, 'ssh');
    const identityFile = path.join(sshState, 'id_ed25519');
    const knownHostsFile = path.join(sshState, 'known_hosts');
    const socketPath =
      options.proxy.socketPath ??
      (process.platform === 'win32'
        ? `\\\\.\\pipe\\warren-desktop-${process.pid}`
        : path.join(sshState, 'proxy.sock'));
    const keyFile = path.join(sshState, 'proxy.key');
    let key: SshKeyPair | undefined;
    this.#deviceKey = () => {
      key ??= loadOrCreateDeviceKey(identityFile);
      return key;
    };
    this.deployments = new DeploymentStore(options.userDataDir, options.safeStorage);
    this.#tunnelStore = new TunnelStore(options.userDataDir);
    this.#sshConfig = new SshConfigWriter({
      sshDir: options.sshDir,
      identityFile,
      knownHostsFile,
      proxyCommand: proxyCommandLine({ ...options.proxy, socketPath, keyFile }),
    });
    this.#proxy = new SshProxyServer({
      socketPath,
      keyFile,
      knownHostsFile,
      publicKey: () => this.#deviceKey().publicKey,
      target: () => this.#target(),
      log: options.log,
    });
    if (options.updates) {
      this.#updates = new AppUpdates({
        ...options.updates,
        log: options.log,
        notify: (notification) => options.platform.notify(notification),
      });
      this.#updates.on('change', () => this.emit('change'));
    }
  }

  async start(): Promise<void> {
    await this.#proxy.start();
    this.#timer = setInterval(() => this.#checkAutostop(), AUTOSTOP_CHECK_MS);
    this.#timer.unref();
    this.#updates?.start();
    const active = this.deployments.active();
    if (active) this.#open(active);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#updates?.stop();
    await this.#closeSession();
    await this.#proxy.close();
  }

  /** Signs in to a daemon (checking the token first) and makes it the live one. */
  async addDeployment(input: AddDeploymentInput): Promise<Deployment> {
    const { url, token } = parseAddDeploymentInput(input);
    this.options.log.hide?.(token);
    // Checked before saving, so a typo'd address or a wrong token never becomes the live deployment.
    await createDaemonClient({ url, token: new Secret(token) })
      .auth.whoami.query()
      .catch((error: Error) => {
        throw new WarrenError('UNAUTHORIZED', `Could not sign in to ${url}: ${error.message}`);
      });
    const deployment = this.deployments.add(input);
    await this.#closeSession();
    this.#open(deployment);
    return deployment;
  }

  async switchDeployment(id: string): Promise<Deployment> {
    const deployment = this.deployments.switchTo(id);
    await this.#closeSession();
    this.#open(deployment);
    return deployment;
  }

  /**
   * Forgets a daemon and its token (the renderer's sign-out, after the daemon revoked the token);
   * when it was the live one, the next saved one opens, or none.
   */
  async removeDeployment(id: string): Promise<Deployment | undefined> {
    const wasLive = this.#session?.deployment.id === id;
    this.deployments.remove(id);
    if (!wasLive) return this.deployments.active();
    await this.#closeSession();
    const next = this.deployments.active();
    if (next) this.#open(next);
    else this.emit('change');
    return next;
  }

  /** The live deployment's API client, for the renderer's IPC bridge; the token stays in here. */
  client(): DaemonClient {
    if (!this.#session) throw new WarrenError('UNAUTHORIZED', 'Sign in to a Warren server first.');
    return this.#session.client;
  }

  /** Serves the renderer's tRPC operations on a message port; the token stays in this process. */
  ipcServer(): IpcApiServer {
    const caller = desktopRouter(this).createCaller({});
    return new IpcApiServer({ daemon: () => this.#requireSession().untyped, desktop: () => caller });
  }

  tunnels(): TunnelManager {
    if (!this.#session) throw new WarrenError('UNAUTHORIZED', 'Sign in to a Warren server first.');
    return this.#session.tunnels;
  }

  /** Whether the live deployment's forwards should use WireGuard, and why not when it cannot run. */
  async wireguardSetting(): Promise<WireguardSetting> {
    const session = this.#requireSession();
    return { on: this.#wantsWireguard(session), notice: await session.wireguard.notice() };
  }

  /**
   * Turns WireGuard on or off for the live deployment's forwards (saved with the deployment).
   * Live tunnels move to the new route; turned off, the device is removed.
   */
  async setWireguard(on: boolean): Promise<WireguardSetting> {
    const session = this.#requireSession();
    this.deployments.setWireguard(session.deployment.id, on);
    await session.tunnels.reroute();
    if (!on) await session.wireguard.close();
    this.emit('change');
    return this.wireguardSetting();
  }

  /** The live deployment's WireGuard mode, for tests and logs. */
  wireguardMode(): WireguardMode | undefined {
    return this.#session?.wireguard;
  }

  workspaceState(): WorkspaceState | undefined {
    return this.#session?.workspaces;
  }

  trayMenu(): TrayMenu {
    const session = this.#session;
    const snapshot = session?.workspaces.snapshot();
    return buildTrayMenu({
      deployments: this.deployments.list(),
      snapshot,
      tunnels: session ? session.tunnels.status(snapshot?.workspaces.map((w) => w.name)) : new Map(),
      updates: this.#updates?.status(),
    });
  }

  /** Does what a tray item says; errors come back as WarrenError sentences for a dialog. */
  async perform(action: TrayAction): Promise<void> {
    const { platform } = this.options;
    switch (action.kind) {
      case 'quit':
        return platform.quit();
      case 'openWindow':
        return platform.openWindow();
      case 'openChat':
        return platform.openWindow(`/chat/${encodeURIComponent(action.chatId)}`);
      case 'switchDeployment':
        await this.switchDeployment(action.deploymentId);
        return;
      case 'checkForUpdates':
        return this.#updates?.check({ manual: true });
      case 'restartToUpdate':
        return this.#updates?.restartToUpdate();
    }
    const session = this.#requireSession();
    const view = session.workspaces.workspace(action.workspace);
    if (!view) throw new WarrenError('NOT_FOUND', `There is no workspace named "${action.workspace}".`);
    const alias = sshHostAlias(view, session.workspaces.snapshot().me ?? view.owner);
    switch (action.kind) {
      case 'start':
        await session.client.workspaces.start.mutate({ name: view.name });
        return;
      case 'stop':
        await session.tunnels.close(view.name);
        await session.client.workspaces.stop.mutate({ name: view.name });
        return;
      case 'connect':
        this.syncSshConfig();
        await session.tunnels.open(view.name);
        return;
      case 'disconnect':
        return session.tunnels.close(view.name);
      case 'openTerminal':
        this.syncSshConfig();
        return platform.openTerminal(sshCommand(alias));
      case 'openInVsCode':
        this.syncSshConfig();
        return platform.openExternal(vscodeUri(alias, await this.homeDirectory(view.name)));
      case 'copySshCommand':
        this.syncSshConfig();
        return platform.copyText(sshCommand(alias));
      case 'openInBrowser':
        return platform.openExternal(workspacePageUrl(session.deployment.url, view.owner, view.name));
    }
  }

  /** Follows a deep link: switches deployment when it names another, then shows or connects the workspace. */
  async followDeepLink(link: DeepLink): Promise<void> {
    const wanted = link.deployment?.replace(/\/+$/, '');
    if (wanted) {
      const match = this.deployments.list().find((d) => d.id === wanted || d.url === wanted);
      if (!match)
        throw new WarrenError(
          'NOT_FOUND',
          `This desktop is not signed in to ${wanted}; sign in to it first.`,
        );
      if (!match.active) await this.switchDeployment(match.id);
    }
    const session = this.#requireSession();
    await session.workspaces.until((s) => s.connection !== 'connecting');
    const name = link.workspace.name;
    if (!session.workspaces.workspace(name))
      throw new WarrenError('NOT_FOUND', `There is no workspace named "${name}".`);
    const actions = {
      show: undefined,
      connect: 'connect',
      terminal: 'openTerminal',
      vscode: 'openInVsCode',
    } as const;
    const kind = actions[link.action];
    if (!kind)
      return this.options.platform.openWindow(
        `/workspaces/${encodeURIComponent(link.workspace.owner ?? session.workspaces.snapshot().me ?? '')}/${encodeURIComponent(name)}`,
      );
    return this.perform({ kind, workspace: name });
  }

  /** Rewrites the SSH include file for the live workspace list (only when it changed). */
  syncSshConfig(): boolean {
    const snapshot = this.#session?.workspaces.snapshot();
    if (!snapshot?.me) return false;
    return this.#sshConfig.sync(snapshot.workspaces, snapshot.me);
  }

  /** The workspace's home directory, asked over SSH: the folder VS Code opens. */
  async homeDirectory(workspace: string): Promise<string> {
    const target = this.#requireTarget();
    const ssh = await connectWorkspaceSsh(target, workspace);
    try {
      return await new Promise<string>((resolve, reject) =>
        ssh.client.exec('printf %s "$HOME"', (error, channel) => {
          if (error)
            return reject(new WarrenError('UPSTREAM', `Could not ask ${workspace} for its home folder.`));
          let out = '';
          channel.on('data', (chunk: Buffer) => {
            out += chunk.toString('utf8');
          });
          channel.on('close', () => resolve(out.trim() || '/'));
        }),
      );
    } finally {
      ssh.close();
    }
  }

  #open(deployment: Deployment): void {
    const target = this.deployments.target(deployment.id);
    this.options.log.hide?.(target.token.reveal());
    const client = createDaemonClient(target);
    const untyped = createUntypedDaemonClient(target);
    const workspaces = new WorkspaceState(client);
    const wireguard = new WireguardMode({
      wanted: () => this.#session === session && this.#wantsWireguard(session),
      control: wireguardControl(client.wireguard),
      log: this.options.log,
      ...this.options.wireguard,
    });
    const tunnels = new TunnelManager(this.#tunnelStore, deployment.id, (workspace) =>
      this.#route(session, workspace),
    );
    const notifier = new WorkspaceNotifier();
    const session: Session = { deployment, client, untyped, workspaces, tunnels, wireguard, notifier };
    workspaces.on('change', (snapshot) => {
      if (this.#session !== session) return;
      if (snapshot.connection === 'connected') {
        for (const notification of notifier.update(snapshot.workspaces))
          this.options.platform.notify(notification);
        this.#syncSshConfigQuietly();
      }
      this.emit('change');
    });
    tunnels.on('change', () => this.emit('change'));
    tunnels.on('dropped', (workspace, detail) =>
      this.options.platform.notify(tunnelDropped(workspace, detail)),
    );
    this.#session = session;
    workspaces.start();
    this.options.log.info('deployment opened', { deployment: deployment.name, url: deployment.url });
    this.emit('change');
  }

  /** A workspace's tunnel goes over WireGuard where it is on and can run, else through the relay. */
  async #route(session: Session, workspace: string): Promise<TunnelRoute> {
    const choice = await session.wireguard.choose();
    const dial =
      choice.via === 'wireguard'
        ? () => session.wireguard.connect(workspace)
        : () => connectWorkspaceSsh(this.#requireTarget(), workspace);
    return {
      via: choice.via,
      notice: choice.via === 'relay' ? choice.notice : undefined,
      connect: () => this.#connectWhenAgentIsBack(session.workspaces, workspace, dial),
    };
  }

  #wantsWireguard(session: Session): boolean {
    return this.deployments.list().find((d) => d.id === session.deployment.id)?.wireguard ?? false;
  }

  /**
   * Dials the workspace; when the server or the agent is away, waits for the workspace stream to
   * report the agent connected again (up to 10 s) before one more try. The tunnel then comes back
   * as soon as the agent does, instead of at the forwarder's next backoff tick, which after a
   * restart can be seconds away; a refusal that waiting cannot fix is passed on at once.
   */
  async #connectWhenAgentIsBack(
    workspaces: WorkspaceState,
    workspace: string,
    dial: () => Promise<ForwardConnection>,
  ): Promise<ForwardConnection> {
    try {
      return await dial();
    } catch (error) {
      if (!(error instanceof WarrenError) || !['UNAVAILABLE', 'UPSTREAM'].includes(error.code)) throw error;
      const back = await workspaces.nextChange(
        (s) =>
          s.connection === 'connected' &&
          s.workspaces.some((w) => w.name === workspace && w.agent?.connected),
        AGENT_WAIT_MS,
      );
      if (!back) throw error;
      return dial();
    }
  }

  async #closeSession(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    if (!session) return;
    session.workspaces.close();
    await session.tunnels.closeAll();
    // After the tunnels, so none is left on a device that is gone.
    await session.wireguard.end();
  }

  #syncSshConfigQuietly(): void {
    try {
      this.syncSshConfig();
    } catch (error) {
      this.options.log.warn('could not update the SSH config', { error: (error as Error).message });
    }
  }

  #checkAutostop(): void {
    const session = this.#session;
    if (!session) return;
    const snapshot = session.workspaces.snapshot();
    if (snapshot.connection !== 'connected') return;
    for (const notification of session.notifier.update(snapshot.workspaces))
      this.options.platform.notify(notification);
  }

  #target() {
    return this.#session ? this.deployments.target(this.#session.deployment.id) : undefined;
  }

  #requireTarget() {
    const target = this.#target();
    if (!target) throw new WarrenError('UNAUTHORIZED', 'Sign in to a Warren server first.');
    return target;
  }

  #requireSession(): Session {
    if (!this.#session) throw new WarrenError('UNAUTHORIZED', 'Sign in to a Warren server first.');
    return this.#session;
  }
}
