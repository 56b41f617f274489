import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/database';

/** Liveness and database reachability, for load balancers and the test harness. */
export async function healthPlugin(app: FastifyInstance, db: Db): Promise<void> {
  app.get('/healthz', async (_req, reply) => {
    try {
      await db.kysely.selectFrom('deployment_flags').select('key').limit(1).execute();
      return { status: 'ok', database: db.dialect };
    } catch {
      return reply.code(503).send({ status: 'unavailable', database: db.dialect });
    }
  });
}
