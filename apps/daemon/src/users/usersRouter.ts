import { createUserInput, listUsersInput, Secret, setRolesInput, userRefInput } from '@warren/core';
import { authedProcedure, router } from '../api/trpc';

/** Suspend or reactivate: one mutation shape, audited with the status before and after. */
const setStatus = (status: 'active' | 'suspended') =>
  authedProcedure.input(userRefInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'user', id: input.username, name: input.username };
    const { before, after } = await ctx.services.users.setStatus(ctx.actor, input.username, status);
    ctx.audit.target = { type: 'user', id: after.id, name: after.username };
    ctx.audit.diff = { before: { status: before.status }, after: { status: after.status } };
    return after;
  });

export const usersRouter = router({
  list: authedProcedure.input(listUsersInput).query(({ ctx, input }) => ctx.services.users.list(input ?? {})),

  create: authedProcedure.input(createUserInput).mutation(async ({ ctx, input }) => {
    const user = await ctx.services.users.create(ctx.actor, {
      ...input,
      password: new Secret(input.password),
    });
    ctx.audit.target = { type: 'user', id: user.id, name: user.username };
    ctx.audit.diff = { after: user };
    return user;
  }),

  suspend: setStatus('suspended'),
  activate: setStatus('active'),

  setRoles: authedProcedure.input(setRolesInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'user', id: input.username, name: input.username };
    const { before, after } = await ctx.services.users.setRoles(ctx.actor, input.username, input.roles);
    ctx.audit.target = { type: 'user', id: after.id, name: after.username };
    ctx.audit.diff = { before: { roles: before.roles }, after: { roles: after.roles } };
    return after;
  }),
});
