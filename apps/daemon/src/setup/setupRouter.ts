import { createFirstUserInput, noInput, Secret } from '@warren/core';
import { procedure, router } from '../api/trpc';

export const setupRouter = router({
  status: procedure
    .input(noInput)
    .query(async ({ ctx }) => ({ needsFirstUser: !(await ctx.services.users.hasUsers()) })),

  createFirstUser: procedure.input(createFirstUserInput).mutation(async ({ ctx, input }) => {
    const user = await ctx.services.users.createFirstUser({ ...input, password: new Secret(input.password) });
    ctx.audit.target = { type: 'user', id: user.id, name: user.username };
    ctx.audit.diff = { after: user };
    return user;
  }),
});
