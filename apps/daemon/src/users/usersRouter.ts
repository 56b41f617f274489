import { createUserInput, listUsersInput, Secret, setRolesInput, userRefInput } from '@warren/core';
import { authedProcedure, router } from '../api/trpc';

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

  suspend: authedProcedure.input(userRefInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'user', id: input.username, name: input.username };
    const { before, after } = await ctx.services.users.setStatus(ctx.actor, input.username, 'suspended');
    ctx.audit.target = { type: 'user', id: after.id, name: after.username };
    ctx.audit.diff = { before: { status: before.status }, after: { status: after.status } };
    return after;
  }),

  activate: authedProcedure.input(userRefInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'user', id: input.username, name: input.username };
    const { before, after } = await ctx.services.users.setStatus(ctx.actor, input.username, 'active');
    ctx.audit.target = { type: 'user', id: after.id, name: after.username };
    ctx.audit.diff = { before: { status: before.status }, after: { status: after.status } };
    return after;
  }),

  setRoles: authedProcedure.input(setRolesInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'user', id: input.username, name: input.username };
    const { before, after } = await ctx.services.users.setRoles(ctx.actor, input.username, input.roles);
    ctx.audit.target = { type: 'user', id: after.id, name: after.username };
    ctx.audit.diff = { before: { roles: before.roles }, after: { roles: after.roles } };
    return after;
  }),
});
