import { listAuditInput } from '@warren/core';
import { authedProcedure, router } from '../api/trpc';

export const auditRouter = router({
  list: authedProcedure.input(listAuditInput).query(({ ctx, input }) => ctx.services.audit.list(input ?? {})),

  /** New audit entries as they happen; ends when the subscriber's key is revoked or they are suspended. */
  live: authedProcedure.subscription(async function* ({ ctx, signal }) {
    const session = ctx.services.live.track(ctx.actor.userId, ctx.actor.apiKeyId);
    try {
      const stop = signal ? AbortSignal.any([signal, session.signal]) : session.signal;
      yield* ctx.services.audit.live(stop);
    } finally {
      session.release();
    }
  }),
});
