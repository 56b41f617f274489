import { Readable } from 'node:stream';
import { describeIssues, errorCodes, USAGE_CSV_PATH, usageFilterSchema, WarrenError } from '@warren/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { actorOf, createContext, type Services } from '../api/context';
import { INTERNAL_MESSAGE } from '../api/trpc';
import { usageCsv } from './usageCsv';

function sendError(services: Services, reply: FastifyReply, error: unknown) {
  const known = error instanceof WarrenError ? error : undefined;
  if (!known) services.log.error({ err: error }, 'usage export failed');
  const code = known?.code ?? 'INTERNAL';
  return reply.code(errorCodes[code]).send({ error: { code, message: known?.message ?? INTERNAL_MESSAGE } });
}

/**
 * The AI usage record as CSV, for spreadsheets and billing: the filters of ai.usage.list as
 * query parameters, the same sign-in (bearer token or session cookie) and the same visibility.
 */
export async function usageCsvPlugin(app: FastifyInstance, services: Services): Promise<void> {
  app.get(USAGE_CSV_PATH, async (request, reply) => {
    try {
      const ctx = await createContext(services, request, reply);
      const actor = actorOf(ctx);
      if (!actor) {
        if (ctx.auth && 'error' in ctx.auth) throw ctx.auth.error;
        throw new WarrenError('UNAUTHORIZED', 'You are not signed in. Run "warren login" or sign in again.');
      }
      const parsed = usageFilterSchema.safeParse({ ...(request.query as object) });
      if (!parsed.success) throw new WarrenError('INVALID_INPUT', describeIssues(parsed.error.issues));
      const scope = await services.aiUsage.scope(actor, parsed.data);
      const day = new Date().toISOString().slice(0, 10);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="warren-ai-usage-${day}.csv"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(usageCsv(services.aiUsage.records(scope))));
    } catch (error) {
      return sendError(services, reply, error);
    }
  });
}
