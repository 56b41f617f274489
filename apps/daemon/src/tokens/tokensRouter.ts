import { createTokenInput, listTokensInput, revokeTokenInput } from '@warren/core';
import { authedProcedure, router } from '../api/trpc';
import { authorizeTokenAccess } from '../auth/policy';

export const tokensRouter = router({
  /** The token value is in this response only; it is stored hashed. */
  create: authedProcedure.input(createTokenInput).mutation(async ({ ctx, input }) => {
    const created = await ctx.services.auth.createToken(ctx.actor, input.name, input.lifetimeSeconds);
    ctx.audit.target = { type: 'api_key', id: created.apiKeyId, name: input.name };
    ctx.audit.diff = { after: { name: input.name, expiresAt: created.expiresAt } };
    return {
      id: created.apiKeyId,
      name: input.name,
      expiresAt: created.expiresAt,
      token: created.token.reveal(),
    };
  }),

  list: authedProcedure.input(listTokensInput).query(async ({ ctx, input }) => {
    let userId = ctx.actor.userId;
    if (input?.username && input.username !== ctx.actor.username) {
      userId = (await ctx.services.users.get({ username: input.username })).id;
    }
    authorizeTokenAccess(ctx.actor, userId);
    return ctx.services.auth.listTokens({ userId, includeRevoked: input?.includeRevoked ?? false });
  }),

  revoke: authedProcedure.input(revokeTokenInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'api_key', id: input.id };
    const token = await ctx.services.auth.findToken(input.id);
    authorizeTokenAccess(ctx.actor, token.user_id);
    ctx.audit.target = { type: 'api_key', id: token.id, name: token.name };
    await ctx.services.auth.revokeToken(token.id);
    ctx.audit.diff = { before: { revoked: false }, after: { revoked: true } };
    return { ok: true as const };
  }),
});
