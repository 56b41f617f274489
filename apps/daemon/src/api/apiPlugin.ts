import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import type { FastifyInstance } from 'fastify';
import { type AppRouter, appRouter } from './appRouter';
import { createContext, type Services } from './context';

export const API_PREFIX = '/api/trpc';

/** tRPC over HTTP: queries (GET), mutations (POST) and subscriptions (SSE). */
export async function apiPlugin(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(fastifyTRPCPlugin, {
    prefix: API_PREFIX,
    trpcOptions: {
      router: appRouter,
      createContext: ({ req, res }) => createContext(services, req, res),
      onError({ error, path }) {
        if (error.code === 'INTERNAL_SERVER_ERROR')
          services.log.error({ err: error.cause ?? error, path }, 'API error');
      },
      responseMeta({ errors }) {
        const retryAfter = errors
          .map((e) => (e.cause as { retryAfter?: number } | undefined)?.retryAfter)
          .find((s) => s !== undefined);
        return retryAfter ? { headers: new Headers({ 'retry-after': String(retryAfter) }) } : {};
      },
      maxBatchSize: 20,
      allowMethodOverride: false,
    } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
  });
}
