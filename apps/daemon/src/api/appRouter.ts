import { auditRouter } from '../audit/auditRouter';
import { authRouter } from '../auth/authRouter';
import { setupRouter } from '../setup/setupRouter';
import { tokensRouter } from '../tokens/tokensRouter';
import { usersRouter } from '../users/usersRouter';
import { router } from './trpc';

export const appRouter = router({
  setup: setupRouter,
  auth: authRouter,
  users: usersRouter,
  tokens: tokensRouter,
  audit: auditRouter,
});

/** The only thing clients take from the daemon. */
export type AppRouter = typeof appRouter;
