import { MessageChannel } from 'node:worker_threads';
import { createTRPCClient, TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '../src/main/api/AppRouter';
import type { DesktopRouter } from '../src/main/ipc/desktopRouter';
import { nodeIpcPort } from '../src/main/ipc/ipcPorts';
import { IpcConnection, ipcLink } from '../src/renderer/ipcLink';
import { DaemonProcess, waitFor } from './support/daemonProcess';
import { desktopMain } from './support/desktopWorld';

describe('tRPC over IPC: the renderer reaches the daemon through the main process', () => {
  let daemon: DaemonProcess;
  let token: string;
  let world: ReturnType<typeof desktopMain>;
  let channel: MessageChannel;
  /** What the main process sent the renderer: never a token. */
  const toRenderer: unknown[] = [];
  let api: ReturnType<typeof createTRPCClient<AppRouter>>;
  let desktop: ReturnType<typeof createTRPCClient<DesktopRouter>>;

  beforeAll(async () => {
    daemon = await DaemonProcess.start();
    token = (await daemon.owner()).token;
    world = desktopMain();
    await world.main.start();
    channel = new MessageChannel();
    world.main.ipcServer().attach(nodeIpcPort(channel.port1));
    channel.port2.on('message', (message) => toRenderer.push(message));
    const connection = new IpcConnection(nodeIpcPort(channel.port2));
    api = createTRPCClient<AppRouter>({ links: [ipcLink(connection, 'daemon')] });
    desktop = createTRPCClient<DesktopRouter>({ links: [ipcLink(connection, 'desktop')] });
  });
  afterAll(async () => {
    channel?.port1.close();
    await world?.close();
    await daemon?.close();
  });

  it('before sign-in, daemon calls fail with a sentence; sign-in goes through the desktop API', async () => {
    const error = await api.auth.whoami.query().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<AppRouter>).message).toBe('Sign in to a Warren server first.');
    expect((error as TRPCClientError<AppRouter>).data?.code).toBe('UNAUTHORIZED');
    await expect(desktop.deployments.add.mutate({ url: 'gopher://x', token: 't' })).rejects.toThrow(
      /must start with https:\/\/ or http:\/\//,
    );
    const added = await desktop.deployments.add.mutate({ url: daemon.url, token, name: 'Local' });
    expect(added).toMatchObject({ name: 'Local', active: true });
  });

  it('queries, mutations and their errors arrive as the daemon sends them', async () => {
    expect((await api.auth.whoami.query()).username).toBe('owner');
    const missing = await api.workspaces.get.query({ name: 'nope' }).catch((e: unknown) => e);
    expect((missing as TRPCClientError<AppRouter>).data?.code).toBe('NOT_FOUND');
    expect((missing as Error).message).toMatch(/nope/);
  });

  it('a subscription streams live events and stops when the renderer unsubscribes', async () => {
    const seen: string[] = [];
    const subscription = api.workspaces.watch.subscribe(undefined, {
      onData: (event) => {
        if (!('deleted' in event)) seen.push(`${event.name}:${event.status}`);
      },
    });
    await waitFor('the subscription to start', () =>
      toRenderer.some((m) => (m as { t?: string }).t === 'started') ? true : undefined,
    );
    await api.workspaces.create.mutate({
      name: 'ipc',
      template: 'local',
      parameters: { file_server: false },
    });
    await waitFor('an event for the new workspace', () =>
      seen.some((s) => s.startsWith('ipc:')) ? true : undefined,
    );
    subscription.unsubscribe();
    // The local agent outlives the daemon, so the workspace is stopped once its build is done.
    await waitFor(
      'ipc to run',
      async () => ((await api.workspaces.get.query({ name: 'ipc' })).status === 'running' ? true : undefined),
      60_000,
    );
    await api.workspaces.stop.mutate({ name: 'ipc' });
    await waitFor(
      'ipc to stop',
      async () => ((await api.workspaces.get.query({ name: 'ipc' })).status === 'stopped' ? true : undefined),
      60_000,
    );
  });

  it('the desktop API lists deployments and streams the tray, and no token ever crosses the port', async () => {
    const deployments = await desktop.deployments.list.query();
    expect(deployments.map((d) => d.url)).toEqual([daemon.url]);
    const menu = await new Promise<{ tooltip: string }>((resolve) => {
      const sub = desktop.tray.subscribe(undefined, {
        onData: (tray) => {
          sub.unsubscribe();
          resolve(tray);
        },
      });
    });
    expect(menu.tooltip).toMatch(/^Warren — Local/);
    // The sign-in form sent it once (a person pasted it there); nothing sent back ever holds it.
    expect(JSON.stringify(toRenderer)).not.toContain(token);
    expect(toRenderer.length).toBeGreaterThan(5);
  });
});
