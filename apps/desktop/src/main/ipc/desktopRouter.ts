import { on } from 'node:events';
import { initTRPC } from '@trpc/server';
import { z } from 'zod';
import type { DesktopMain } from '../DesktopMain';
import { addDeploymentInput, deploymentIdSchema } from '../deployments/deploymentSchemas';

const t = initTRPC.create();
const workspace = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/i, 'That is not a workspace name.');

/**
 * What the renderer asks of the main process itself (not of the daemon): the saved deployments
 * (never their tokens), the local tunnels, and the tray's state for the window to mirror.
 */
export function desktopRouter(main: DesktopMain) {
  return t.router({
    deployments: t.router({
      list: t.procedure.query(() => main.deployments.list()),
      add: t.procedure.input(addDeploymentInput).mutation(({ input }) => main.addDeployment(input)),
      switch: t.procedure
        .input(z.object({ id: deploymentIdSchema }).strict())
        .mutation(({ input }) => main.switchDeployment(input.id)),
      /** Forgets the server and its token; answers the deployment that is live now, if any. */
      remove: t.procedure
        .input(z.object({ id: deploymentIdSchema }).strict())
        .mutation(async ({ input }) => (await main.removeDeployment(input.id)) ?? null),
    }),
    tunnels: t.router({
      status: t.procedure.query(() => [...main.tunnels().status().values()]),
      addForward: t.procedure
        .input(z.object({ workspace, spec: z.string().max(20) }).strict())
        .mutation(({ input }) => main.tunnels().addForward(input.workspace, input.spec)),
      removeForward: t.procedure
        .input(z.object({ workspace, localPort: z.number().int().min(1).max(65535) }).strict())
        .mutation(({ input }) => main.tunnels().removeForward(input.workspace, input.localPort)),
      open: t.procedure
        .input(z.object({ workspace }).strict())
        .mutation(({ input }) => main.tunnels().open(input.workspace)),
      close: t.procedure
        .input(z.object({ workspace }).strict())
        .mutation(({ input }) => main.tunnels().close(input.workspace)),
      /** The live server's WireGuard setting, and why it is not used when on but unable to run. */
      wireguard: t.procedure.query(() => main.wireguardSetting()),
      setWireguard: t.procedure
        .input(z.object({ on: z.boolean() }).strict())
        .mutation(({ input }) => main.setWireguard(input.on)),
    }),
    /** The tray menu now, then on every change: connection state, workspaces, tunnels. */
    tray: t.procedure.subscription(async function* ({ signal }) {
      yield main.trayMenu();
      for await (const _ of on(main, 'change', { signal })) yield main.trayMenu();
    }),
  });
}

export type DesktopRouter = ReturnType<typeof desktopRouter>;
