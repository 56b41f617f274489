import { aiRouter } from '../ai/aiRouter';
import { auditRouter } from '../audit/auditRouter';
import { authRouter } from '../auth/authRouter';
import { chatRouter } from '../chat/chatRouter';
import { provisionerdRouter, provisionerKeysRouter } from '../provisioners/provisionersRouter';
import { setupRouter } from '../setup/setupRouter';
import { templatesRouter } from '../templates/templatesRouter';
import { tokensRouter } from '../tokens/tokensRouter';
import { wireguardRouter } from '../tunnels/wireguardRouter';
import { usersRouter } from '../users/usersRouter';
import { workspacesRouter } from '../workspaces/workspacesRouter';
import { router } from './trpc';

export const appRouter = router({
  setup: setupRouter,
  auth: authRouter,
  users: usersRouter,
  tokens: tokensRouter,
  audit: auditRouter,
  templates: templatesRouter,
  workspaces: workspacesRouter,
  provisionerKeys: provisionerKeysRouter,
  provisionerd: provisionerdRouter,
  ai: aiRouter,
  chats: chatRouter,
  wireguard: wireguardRouter,
});

/** The only thing clients take from the daemon. */
export type AppRouter = typeof appRouter;
