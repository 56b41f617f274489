import { noInput, pushTemplateInput, templateRefInput, templateVersionRefInput } from '@warren/core';
import { z } from 'zod';
import { authedProcedure, router } from '../api/trpc';

export const templatesRouter = router({
  list: authedProcedure.input(noInput).query(({ ctx }) => ctx.services.templates.list()),

  versions: authedProcedure
    .input(templateRefInput)
    .query(({ ctx, input }) => ctx.services.templates.versions(input.name)),

  /** The manifest and parameters of a version (the active one by default), for create forms. */
  get: authedProcedure.input(templateVersionRefInput).query(async ({ ctx, input }) => {
    const { template, version, manifest } = await ctx.services.templates.version(input.name, input.version);
    return {
      name: template.name,
      version: version.number,
      active: version.id === template.active_version_id,
      manifest,
    };
  }),

  pull: authedProcedure
    .input(templateVersionRefInput)
    .query(({ ctx, input }) => ctx.services.templates.pull(input.name, input.version)),

  push: authedProcedure.input(pushTemplateInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'template', id: input.name, name: input.name };
    const pushed = await ctx.services.templates.push(ctx.actor.userId, input);
    ctx.audit.target = { type: 'template', id: pushed.templateId, name: input.name };
    ctx.audit.diff = {
      after: { version: pushed.version, active: pushed.active, message: input.message ?? null },
    };
    return pushed;
  }),

  promote: authedProcedure
    .input(z.object({ name: templateRefInput.shape.name, version: z.number().int().min(1) }).strict())
    .mutation(async ({ ctx, input }) => {
      ctx.audit.target = { type: 'template', id: input.name, name: input.name };
      const result = await ctx.services.templates.promote(input.name, input.version);
      ctx.audit.diff = { before: { activeVersionId: result.previous }, after: { version: input.version } };
      return { name: input.name, version: input.version };
    }),
});
