import { listAuditInput, noInput } from '@warren/core';
import { authedProcedure, liveStream, router } from '../api/trpc';

export const auditRouter = router({
  list: authedProcedure.input(listAuditInput).query(({ ctx, input }) => ctx.services.audit.list(input ?? {})),

  /** New audit entries as they happen; ends when the subscriber's key is revoked or they are suspended. */
  live: authedProcedure
    .input(noInput)
    .subscription(({ ctx, signal }) => liveStream(ctx, signal, (stop) => ctx.services.audit.live(stop))),
});
