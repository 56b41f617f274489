import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import type { FastifyServerFactory } from 'fastify';
import { OVERHEAD_HEADER } from './forwardedHeaders';
import type { GatewayHandler } from './GatewayHandler';
import { GATEWAY_BODY_LIMIT_BYTES, unreadCall } from './gatewayPlugin';
import { GATEWAY_PREFIX, routeOf } from './gatewayRoutes';
import type { Family } from './providerErrors';
import { serveOverHttp } from './SocketSink';

const PREFIX = `${GATEWAY_PREFIX}/`;

/**
 * Model calls taken from Node's 'request' event straight to the gateway, before Fastify: its
 * routing, hooks, request and reply objects and body parser cost 15-25 µs of CPU a call, about
 * a tenth of what the gateway adds to one. Only the plain case is taken: a POST to a model-call path with a JSON
 * body, while the server is open. Anything else (other methods and paths, other content types,
 * a closing server) goes on to Fastify, where gatewayPlugin answers it; a call taken here is
 * answered exactly as that route would: the same body limit, the same provider-shaped errors for
 * a body that cannot be read, no log line per call.
 */
export class GatewayFrontDoor {
  #open = true;

  constructor(
    private readonly gateway: GatewayHandler,
    /** Counts the request as in flight until its response closes, as Fastify's onRequest hook does. */
    private readonly track: (res: ServerResponse) => void,
  ) {}

  /** From now on, every call goes to Fastify (which answers 503 while the server closes). */
  close(): void {
    this.#open = false;
  }

  /** Serves `req` when it is a call the front door takes; false leaves it to Fastify. */
  take(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url;
    if (
      !this.#open ||
      req.method !== 'POST' ||
      !url?.startsWith(PREFIX) ||
      !isJson(req.headers['content-type'])
    )
      return false;
    const route = routeOf('POST', url);
    if (route.kind !== 'model-call') return false;
    const receivedAt = performance.now();
    this.track(res);
    readBody(
      req,
      (body) =>
        serveOverHttp(this.gateway, { method: 'POST', url, headers: req.headers }, res, body, receivedAt),
      (status) => refuse(res, route.family, status, receivedAt),
    );
    return true;
  }
}

/**
 * A Fastify server factory whose server offers each request to `frontDoor` first. It makes the
 * server as Fastify would without a factory (fastify/lib/server.js): same options, same timeouts.
 */
export function frontDoorServer(frontDoor: GatewayFrontDoor): FastifyServerFactory {
  return (handler, fastifyOptions) => {
    // Fastify passes its own options here, validated and with its defaults filled in.
    const options = fastifyOptions as unknown as ServerOptions;
    const listener: RequestListener = (req, res) => {
      if (!frontDoor.take(req, res)) handler(req, res);
    };
    const server = options.https
      ? https.createServer(options.https, listener)
      : http.createServer(options.http ?? {}, listener);
    server.keepAliveTimeout = options.keepAliveTimeout;
    server.requestTimeout = options.requestTimeout;
    server.setTimeout(options.connectionTimeout);
    if ((options.maxRequestsPerSocket ?? 0) > 0) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    return server;
  };
}

/** The options Fastify (its defaults filled in) would make its own server with. */
interface ServerOptions {
  https?: https.ServerOptions;
  http?: http.ServerOptions;
  keepAliveTimeout: number;
  requestTimeout: number;
  connectionTimeout: number;
  maxRequestsPerSocket: number | null;
}

/** The content types SDKs send with a model call; anything unusual is Fastify's to judge. */
function isJson(contentType: string | undefined): boolean {
  return (
    contentType === 'application/json' ||
    contentType?.toLowerCase().replace(/\s/g, '') === 'application/json;charset=utf-8'
  );
}

/**
 * Reads the whole body as Fastify's buffer parser does: a declared or actual size over the
 * limit is 413, a body that breaks off or differs from its Content-Length is 400. The body is a
 * copy, never a view that would keep a socket's read buffer alive for the whole call.
 */
function readBody(
  req: IncomingMessage,
  read: (body: Buffer) => void,
  failed: (status: number) => void,
): void {
  const declared = Number(req.headers['content-length']);
  if (declared > GATEWAY_BODY_LIMIT_BYTES) {
    failed(413);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > GATEWAY_BODY_LIMIT_BYTES) {
      stop();
      failed(413);
    } else chunks.push(chunk);
  };
  const onEnd = (error?: Error) => {
    stop();
    if (error || (!Number.isNaN(declared) && size !== declared)) failed(400);
    else read(Buffer.concat(chunks, size));
  };
  const stop = () => {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onEnd);
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onEnd);
}

/** Answers a call whose body could not be read; the client may still be sending, so the connection closes. */
function refuse(res: ServerResponse, family: Family, status: number, receivedAt: number): void {
  const failed = unreadCall(family, status);
  res.writeHead(failed.status, {
    ...failed.headers,
    connection: 'close',
    'content-length': Buffer.byteLength(failed.body),
    [OVERHEAD_HEADER]: (performance.now() - receivedAt).toFixed(3),
  });
  res.end(failed.body);
}
