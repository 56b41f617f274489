import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { OVERHEAD_HEADER } from './forwardedHeaders';
import type { GatewayHandler } from './GatewayHandler';
import { GATEWAY_PREFIX, routeOf } from './gatewayRoutes';
import { type Family, type GatewayErrorReply, providerError } from './providerErrors';
import { serveOverHttp } from './SocketSink';

/** Model calls carry whole conversations (and images): far more than the API's 1 MiB. */
export const GATEWAY_BODY_LIMIT_BYTES = 32 * 1024 * 1024;

/**
 * The gateway over HTTP: every request below /api/v2/aigateway/ goes to the core as raw
 * bytes, and its answer is written straight to the socket as it streams. Registered in its
 * own scope so its body limit and raw body parsing apply to nothing else.
 */
export async function gatewayPlugin(app: FastifyInstance, gateway: GatewayHandler): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: GATEWAY_BODY_LIMIT_BYTES },
    (_req, body, done) => done(null, body),
  );
  // Failures before the core sees the request (too large, unreadable) in the provider's own shape.
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, 'AI gateway request failed');
    const failed = unreadCall(routeOf(request.method, request.url).family, status);
    return reply
      .code(failed.status)
      .headers({ ...failed.headers, [OVERHEAD_HEADER]: reply.elapsedTime.toFixed(3) })
      .send(failed.body);
  });
  app.addHook('onClose', () => gateway.close());
  // Fastify gives each request a child logger of its own (a pino child: bindings, serializers,
  // redaction); at thousands of calls a second that was a noticeable share of each call's
  // garbage. Gateway calls share one, at the route's level: the interception row, not a log
  // line, is the record of a call.
  let shared: FastifyBaseLogger | undefined;
  app.setChildLoggerFactory((logger, _bindings, options) => {
    shared ??= logger.child({ component: 'ai-gateway' }, options);
    return shared;
  });

  app.route({
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: `${GATEWAY_PREFIX}/*`,
    bodyLimit: GATEWAY_BODY_LIMIT_BYTES,
    // The interception row is the record of each call; a log line per call would only cost time.
    logLevel: 'warn',
    handler: (request, reply) => {
      // Fastify started timing when the request arrived, before routing and body parsing.
      const receivedAt = performance.now() - reply.elapsedTime;
      reply.hijack();
      const body = Buffer.isBuffer(request.body) ? request.body : undefined;
      return serveOverHttp(gateway, request, reply.raw, body, receivedAt);
    },
  });
}

/**
 * The answer to a call that failed before the core saw it (Fastify's or the front door's error
 * while reading the request, with its HTTP status), in the provider's own shape.
 */
export function unreadCall(family: Family, status: number): GatewayErrorReply {
  const limit = `${GATEWAY_BODY_LIMIT_BYTES / 1024 / 1024} MiB`;
  const reply =
    status === 413
      ? providerError(family, 'too_large', `The request body is larger than the gateway's ${limit} limit.`)
      : status < 500
        ? providerError(family, 'invalid_request', 'The request could not be read.')
        : providerError(family, 'internal', 'The AI gateway failed to handle the call.');
  return { ...reply, status: status === 413 ? 413 : status < 500 ? 400 : 500 };
}
