import { changePasswordInput, loginInput, noInput, Secret } from '@warren/core';
import { SESSION_COOKIE } from '../api/context';
import { authedProcedure, procedure, router } from '../api/trpc';
import { SESSION_LIFETIME_MS } from './AuthService';

export const authRouter = router({
  login: procedure.input(loginInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'user', id: input.login, name: input.login };
    const { user, token, apiKeyId, expiresAt } = await ctx.services.auth.login(
      input.login,
      new Secret(input.password),
      ctx.ip,
    );
    ctx.audit.target = { type: 'user', id: user.id, name: user.username };
    ctx.audit.actor = { id: user.id, username: user.username };
    ctx.audit.diff = { session: apiKeyId, sessionIn: input.sessionIn };
    if (input.sessionIn === 'cookie') {
      const secure = ctx.services.secureCookies ? '; Secure' : '';
      ctx.reply.header(
        'set-cookie',
        `${SESSION_COOKIE}=${token.reveal()}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_LIFETIME_MS / 1000}${secure}`,
      );
    }
    // The web keeps its session in the HTTP-only cookie; only the CLI and desktop get it in the body.
    const sessionToken: string | undefined = input.sessionIn === 'body' ? token.reveal() : undefined;
    return { username: user.username, expiresAt, token: sessionToken };
  }),

  logout: authedProcedure.input(noInput).mutation(async ({ ctx }) => {
    await ctx.services.auth.logout(ctx.actor);
    ctx.audit.target = { type: 'api_key', id: ctx.actor.apiKeyId };
    if (ctx.via === 'cookie')
      ctx.reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
    return { ok: true as const };
  }),

  whoami: authedProcedure.input(noInput).query(async ({ ctx }) => {
    const user = await ctx.services.users.get({ id: ctx.actor.userId });
    return { ...user, apiKeyId: ctx.actor.apiKeyId };
  }),

  changePassword: authedProcedure.input(changePasswordInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'user', id: ctx.actor.userId, name: ctx.actor.username };
    ctx.audit.diff = { passwordChanged: true };
    await ctx.services.users.changePassword(
      ctx.actor,
      new Secret(input.currentPassword),
      new Secret(input.newPassword),
    );
    return { ok: true as const };
  }),
});
