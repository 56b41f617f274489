import {
  type AgentOperationResult,
  agentOperations,
  buildLogsInput,
  createWorkspaceInput,
  deleteWorkspaceInput,
  listWorkspacesInput,
  scheduleInput,
  transitionInput,
  updateWorkspaceInput,
  WarrenError,
} from '@warren/core';
import { z } from 'zod';
import type { AuthedContext } from '../api/trpc';
import { authedProcedure, liveStream, router } from '../api/trpc';
import type { WorkspaceView } from './workspaceView';

/** Audit the workspace a mutation acted on, with its status before and after. */
function audited(ctx: AuthedContext, before: WorkspaceView | undefined, after: WorkspaceView): WorkspaceView {
  ctx.audit.target = { type: 'workspace', id: after.id, name: `${after.owner}/${after.name}` };
  ctx.audit.diff = {
    before: before ? { status: before.status, templateVersion: before.templateVersion } : null,
    after: { status: after.status, templateVersion: after.templateVersion, build: after.latestBuild.number },
  };
  return after;
}

const transition = (verb: 'start' | 'stop' | 'restart' | 'cancel') =>
  authedProcedure.input(transitionInput).mutation(async ({ ctx, input }) => {
    const before = await ctx.services.workspaces.get(ctx.actor, input);
    return audited(ctx, before, await ctx.services.workspaces[verb](ctx.actor, input));
  });

export const workspacesRouter = router({
  list: authedProcedure
    .input(listWorkspacesInput)
    .query(({ ctx, input }) => ctx.services.workspaces.list(ctx.actor, input ?? {})),

  get: authedProcedure
    .input(transitionInput)
    .query(({ ctx, input }) => ctx.services.workspaces.get(ctx.actor, input)),

  builds: authedProcedure
    .input(transitionInput)
    .query(({ ctx, input }) => ctx.services.workspaces.buildHistory(ctx.actor, input)),

  create: authedProcedure.input(createWorkspaceInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'workspace', id: input.name, name: `${ctx.actor.username}/${input.name}` };
    return audited(ctx, undefined, await ctx.services.workspaces.create(ctx.actor, input));
  }),

  start: transition('start'),
  stop: transition('stop'),
  restart: transition('restart'),
  cancel: transition('cancel'),

  update: authedProcedure.input(updateWorkspaceInput).mutation(async ({ ctx, input }) => {
    const before = await ctx.services.workspaces.get(ctx.actor, input);
    return audited(ctx, before, await ctx.services.workspaces.update(ctx.actor, input, input.parameters));
  }),

  delete: authedProcedure.input(deleteWorkspaceInput).mutation(async ({ ctx, input }) => {
    const before = await ctx.services.workspaces.get(ctx.actor, input);
    return audited(ctx, before, await ctx.services.workspaces.delete(ctx.actor, input, input.orphan));
  }),

  setSchedule: authedProcedure.input(scheduleInput).mutation(async ({ ctx, input }) => {
    const before = await ctx.services.workspaces.get(ctx.actor, input);
    const after = await ctx.services.workspaces.setSchedule(ctx.actor, input, input);
    audited(ctx, before, after);
    ctx.audit.diff = {
      before: { autostopMinutes: before.autostopMinutes, autostart: before.autostart },
      after: { autostopMinutes: after.autostopMinutes, autostart: after.autostart },
    };
    return after;
  }),

  /** A build's log (the latest build by default): backlog, then live lines, then an end marker. */
  logs: authedProcedure
    .input(buildLogsInput)
    .subscription(({ ctx, input, signal }) =>
      liveStream(ctx, signal, (stop) =>
        ctx.services.workspaces.buildLogs(ctx.actor, input, input.build, input.afterSeq ?? 0, stop),
      ),
    ),

  /** The workspace agent's log (its startup and shutdown scripts): backlog, then live lines. */
  agentLogs: authedProcedure
    .input(transitionInput.extend({ afterSeq: z.number().int().min(0).optional() }).strict())
    .subscription(({ ctx, input, signal }) =>
      liveStream(ctx, signal, async function* (stop) {
        const ws = await ctx.services.workspaces.get(ctx.actor, input);
        const agent = await ctx.services.agents.currentAgent(ws.id);
        if (!agent) throw new WarrenError('NOT_FOUND', `Workspace "${ws.name}" has not run an agent yet.`);
        yield* ctx.services.agents.follow(agent.id, input.afterSeq ?? 0, stop);
      }),
    ),

  /**
   * What the workspace's agent sees now: listening ports, CPU, memory and disk (asked on each
   * call; null while it is away), the template's metadata values and apps' health (as last
   * reported), and how many tunnels are open.
   */
  agentInfo: authedProcedure.input(transitionInput).query(async ({ ctx, input }) => {
    const ws = await ctx.services.workspaces.get(ctx.actor, input);
    // The agent is the workspace owner's program: what it answers is checked like any input.
    const ask = <N extends 'listeningPorts' | 'stats'>(op: N) =>
      ctx.services.agentRpc
        .call(ws.id, op, {}, { timeoutMs: 3000 })
        .then((raw) => {
          const parsed = agentOperations[op].result.safeParse(raw);
          return parsed.success ? (parsed.data as AgentOperationResult<N>) : null;
        })
        .catch(() => null);
    const [ports, stats] = await Promise.all([ask('listeningPorts'), ask('stats')]);
    const status = ctx.services.tunnels.agentStatus(ws.id);
    return {
      connected: ctx.services.tunnels.connectedAgent(ws.id) !== undefined,
      ports: ports?.ports ?? null,
      stats,
      metadata: status?.metadata ?? [],
      apps: status?.apps ?? [],
      openTunnels: ctx.services.tunnels.countFor(ws.id),
    };
  }),

  /** Workspace views as their status changes. */
  watch: authedProcedure
    .input(z.object({ all: z.boolean().optional() }).strict().optional())
    .subscription(({ ctx, input, signal }) =>
      liveStream(ctx, signal, (stop) => ctx.services.workspaces.watch(ctx.actor, input?.all ?? false, stop)),
    ),
});
