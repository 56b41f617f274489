import { noInput, WarrenError } from '@warren/core';
import { z } from 'zod';
import { authedProcedure, procedure, router } from '../api/trpc';
import type { BuildOutcome } from '../builds/BuildService';

const tagsSchema = z
  .record(z.string().max(63), z.string().max(255))
  .refine((t) => Object.keys(t).length <= 20, 'At most 20 tags.');
const keyNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'Key name may use lowercase letters, digits, ".", "-" and "_".');
const instanceSchema = z.string().min(8).max(64);
const jobRef = z.object({ jobId: z.string().max(64), instanceId: instanceSchema }).strict();

/** The calling external provisioner; the policy has already required one. */
function provisionerOf(ctx: { provisioner?: { keyId: string; tags: Record<string, string> } | undefined }) {
  if (!ctx.provisioner) throw new WarrenError('UNAUTHORIZED', 'This call needs a provisioner key.');
  return ctx.provisioner;
}

const workerId = (keyId: string, instanceId: string) => `key:${keyId}:${instanceId}`;

/** Owners manage provisioner keys. */
export const provisionerKeysRouter = router({
  list: authedProcedure.input(noInput).query(({ ctx }) => ctx.services.provisionerKeys.list()),
  create: authedProcedure
    .input(z.object({ name: keyNameSchema, tags: tagsSchema.default({}) }).strict())
    .mutation(async ({ ctx, input }) => {
      const created = await ctx.services.provisionerKeys.create(ctx.actor.userId, input.name, input.tags);
      ctx.audit.target = { type: 'provisioner_key', id: created.id, name: created.name };
      ctx.audit.diff = { after: { name: created.name, tags: created.tags } };
      return { id: created.id, name: created.name, tags: created.tags, key: created.key.reveal() };
    }),
  revoke: authedProcedure
    .input(z.object({ name: keyNameSchema }).strict())
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: 'provisioner_key', id: input.name, name: input.name };
      await ctx.services.provisionerKeys.revoke(input.name);
      return { ok: true as const };
    }),
});

/** The queue API that external provisioners use; authenticated by a provisioner key. */
export const provisionerdRouter = router({
  acquire: procedure
    .input(z.object({ instanceId: instanceSchema }).strict())
    .mutation(async ({ ctx, input }) => {
      const p = provisionerOf(ctx);
      const { queue, builds } = ctx.services;
      const job = await queue.acquire(workerId(p.keyId, input.instanceId), p.tags, ctx.services.leaseMs);
      if (!job) return null;
      try {
        const prepared = await builds.prepare(job);
        // The agent token crosses to the provisioner, which hands it to the workspace it makes.
        return {
          ...prepared,
          request: {
            ...prepared.request,
            agent: { ...prepared.request.agent, token: prepared.request.agent.token.reveal() },
          },
        };
      } catch (error) {
        await builds.complete(job.id, workerId(p.keyId, input.instanceId), {
          status: 'failed',
          error: (error as Error).message,
        });
        return null;
      }
    }),
  renew: procedure.input(jobRef).mutation(({ ctx, input }) => {
    const p = provisionerOf(ctx);
    return ctx.services.queue.renew(input.jobId, workerId(p.keyId, input.instanceId), ctx.services.leaseMs);
  }),
  appendLogs: procedure
    .input(
      jobRef
        .extend({
          lines: z
            .array(
              z.object({ level: z.enum(['info', 'warn', 'error']), line: z.string().max(4096) }).strict(),
            )
            .max(500),
        })
        .strict(),
    )
    .mutation(async ({ ctx, input }) => {
      const p = provisionerOf(ctx);
      const job = await ctx.services.queue.get(input.jobId);
      if (job?.worker_id !== workerId(p.keyId, input.instanceId) || job.status !== 'running') {
        throw new WarrenError('CONFLICT', 'This provisioner does not hold that job.');
      }
      await ctx.services.queue.appendLogs(input.jobId, input.lines);
      return { ok: true as const };
    }),
  complete: procedure
    .input(
      jobRef
        .extend({
          outcome: z.discriminatedUnion('status', [
            z.object({ status: z.literal('succeeded'), state: z.record(z.string(), z.unknown()) }).strict(),
            z.object({ status: z.enum(['failed', 'canceled']), error: z.string().max(4096) }).strict(),
          ]),
        })
        .strict(),
    )
    .mutation(async ({ ctx, input }) => {
      const p = provisionerOf(ctx);
      const done = await ctx.services.builds.complete(
        input.jobId,
        workerId(p.keyId, input.instanceId),
        input.outcome as BuildOutcome,
      );
      if (!done) throw new WarrenError('CONFLICT', 'This provisioner does not hold that job any more.');
      return { ok: true as const };
    }),
});
