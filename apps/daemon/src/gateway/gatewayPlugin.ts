import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { OVERHEAD_HEADER } from './forwardedHeaders';
import type { GatewayHandler } from './GatewayHandler';
import { CallAbort, type GatewaySink } from './GatewaySink';
import { GATEWAY_PREFIX, routeOf } from './gatewayRoutes';
import { providerError } from './providerErrors';

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
    const family = routeOf(request.method, request.url).family;
    const status = error.statusCode ?? 500;
    const limit = `${GATEWAY_BODY_LIMIT_BYTES / 1024 / 1024} MiB`;
    const { headers, body } =
      status === 413
        ? providerError(family, 'too_large', `The request body is larger than the gateway's ${limit} limit.`)
        : status < 500
          ? providerError(family, 'invalid_request', 'The request could not be read.')
          : providerError(family, 'internal', 'The AI gateway failed to handle the call.');
    if (status >= 500) request.log.error({ err: error }, 'AI gateway request failed');
    return reply
      .code(status === 413 ? 413 : status < 500 ? 400 : 500)
      .headers({ ...headers, [OVERHEAD_HEADER]: reply.elapsedTime.toFixed(3) })
      .send(body);
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
      const res = reply.raw;
      const abort = new CallAbort();
      res.once('close', () => {
        if (!res.writableFinished) abort.abort();
      });
      return gateway.serve(
        {
          method: request.method,
          url: request.url,
          headers: request.headers,
          body: Buffer.isBuffer(request.body) ? request.body : undefined,
          signal: abort,
          receivedAt,
        },
        new SocketSink(res),
      );
    },
  });
}

/** Writes the core's answer to the Node response, honouring its backpressure. */
class SocketSink implements GatewaySink {
  #corked = false;

  constructor(private readonly res: ServerResponse) {}

  head(status: number, headers: Record<string, string | string[]>, flush = false): void {
    if (this.res.destroyed) return;
    this.res.writeHead(status, headers);
    // A stream's head goes out now, as the provider's did, unless its first chunk is already
    // here: then both leave in one write (Node sends the head with the first chunk).
    if (flush) setImmediate(() => this.#flushHead());
  }

  #flushHead(): void {
    if (!this.res.headersSent && !this.res.destroyed) this.res.flushHeaders();
  }

  write(chunk: Uint8Array): boolean {
    if (this.res.destroyed) return true;
    // Chunks that arrived together (and the end, when it came with them) leave in one write:
    // corked until the tick is over, as one writev instead of a syscall each.
    if (!this.#corked) {
      this.#corked = true;
      this.res.cork();
      process.nextTick(uncork, this);
    }
    return this.res.write(chunk);
  }

  uncork(): void {
    this.#corked = false;
    this.res.uncork();
  }

  drained(): Promise<void> {
    if (this.res.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.once('drain', done);
      this.res.once('close', done);
    });
  }

  end(last?: string | Uint8Array): void {
    if (!this.res.destroyed) this.res.end(last);
  }

  destroy(): void {
    this.res.destroy();
  }
}

function uncork(sink: SocketSink): void {
  sink.uncork();
}
