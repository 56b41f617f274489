import { initTRPC, TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { describeIssues, type errorCodes, WarrenError } from '@warren/core';
import { authorizeProcedure, procedurePolicy } from '../auth/policy';
import { chatAuditDiff } from '../chat/chatAudit';
import { actorOf, type Context } from './context';

const trpcCodeFor: Record<keyof typeof errorCodes, TRPC_ERROR_CODE_KEY> = {
  INVALID_INPUT: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  INTERNAL: 'INTERNAL_SERVER_ERROR',
  UPSTREAM: 'BAD_GATEWAY',
  UNAVAILABLE: 'SERVICE_UNAVAILABLE',
};

const warrenCodeFor: Partial<Record<TRPC_ERROR_CODE_KEY, keyof typeof errorCodes>> = {
  BAD_REQUEST: 'INVALID_INPUT',
  PARSE_ERROR: 'INVALID_INPUT',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_SUPPORTED: 'INVALID_INPUT',
  CONFLICT: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  UNSUPPORTED_MEDIA_TYPE: 'INVALID_INPUT',
};

export const INTERNAL_MESSAGE = 'Something went wrong on the server. The error was logged; try again later.';

function issuesOf(cause: unknown): Parameters<typeof describeIssues>[0] | undefined {
  const issues = (cause as { issues?: unknown } | undefined)?.issues;
  return Array.isArray(issues) ? issues : undefined;
}

/** The Warren code behind a tRPC error: only a real server fault is INTERNAL. */
export function warrenCodeOf(error: TRPCError): keyof typeof errorCodes {
  if (error.cause instanceof WarrenError) return error.cause.code;
  return warrenCodeFor[error.code] ?? (error.code === 'INTERNAL_SERVER_ERROR' ? 'INTERNAL' : 'INVALID_INPUT');
}

export function toTRPCError(error: unknown): TRPCError {
  if (error instanceof TRPCError) return error;
  if (error instanceof WarrenError)
    return new TRPCError({ code: trpcCodeFor[error.code], message: error.message, cause: error });
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: INTERNAL_MESSAGE, cause: error });
}

const t = initTRPC.context<Context>().create({
  isDev: false,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const issues = issuesOf(cause);
    const code = warrenCodeOf(error);
    let message = shape.message;
    if (issues) message = describeIssues(issues);
    else if (error.code === 'PARSE_ERROR' || cause instanceof SyntaxError)
      message = 'The input is not valid JSON.';
    else if (error.code === 'UNSUPPORTED_MEDIA_TYPE')
      message = 'Send the input as JSON (Content-Type: application/json).';
    else if (code === 'INTERNAL') message = INTERNAL_MESSAGE;
    return {
      code: shape.code,
      message,
      data: {
        code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        retryAfter: cause instanceof WarrenError ? cause.retryAfter : undefined,
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Every procedure: errors mapped once, the policy rule checked before input is read, mutations audited. */
export const procedure = t.procedure
  .use(async ({ next }) => {
    const result = await next();
    if (!result.ok)
      throw toTRPCError(result.error.cause instanceof WarrenError ? result.error.cause : result.error);
    return result;
  })
  .use(async ({ ctx, path, next }) => {
    const actor = actorOf(ctx);
    try {
      authorizeProcedure(path, actor, ctx.provisioner);
    } catch (error) {
      // A credential that failed to authenticate explains itself better than "not signed in".
      if (!actor && ctx.auth && 'error' in ctx.auth && (error as WarrenError).code === 'UNAUTHORIZED')
        throw ctx.auth.error;
      throw error;
    }
    const provisioner = ctx.provisioner instanceof WarrenError ? undefined : ctx.provisioner;
    return next({ ctx: { actor, provisioner } });
  })
  .use(async ({ ctx, type, path, next, getRawInput }) => {
    // Provisioners' queue calls (lease renewals every few seconds) are plumbing, not people's
    // actions; the build they serve was audited when a person asked for it.
    if (type !== 'mutation' || procedurePolicy[path]?.kind === 'provisioner') return next();
    const result = await next();
    const actor = actorOf(ctx);
    const failure = result.ok ? undefined : result.error;
    let diff = ctx.audit.diff;
    if (diff === undefined) {
      const input = await getRawInput().catch(() => undefined);
      // Chat input is people's words: only ids and lengths, even when it failed validation.
      diff = path.startsWith('chats.') ? chatAuditDiff(input) : { input };
    }
    try {
      await ctx.services.audit.record({
        actorId: actor?.userId ?? ctx.audit.actor?.id ?? null,
        actorUsername: actor?.username ?? ctx.audit.actor?.username ?? null,
        action: path,
        target: ctx.audit.target,
        sourceIp: ctx.ip,
        apiKeyId: actor?.apiKeyId ?? null,
        status: failure ? 'error' : 'ok',
        errorCode: failure ? warrenCodeOf(failure) : undefined,
        diff,
      });
    } catch (error) {
      ctx.services.log.error({ err: error, action: path }, 'could not write the audit entry');
      throw new WarrenError('INTERNAL', INTERNAL_MESSAGE);
    }
    return result;
  });

export type AuthedContext = Context & { actor: NonNullable<ReturnType<typeof actorOf>> };

/** For procedures whose rule requires a signed-in user: narrows `ctx.actor`. */
export const authedProcedure = procedure.use(({ ctx, next }) => {
  if (!ctx.actor) throw new WarrenError('UNAUTHORIZED', 'You are not signed in.');
  return next({ ctx: { actor: ctx.actor } });
});

/**
 * Runs a subscription's stream until the client leaves, the server stops, or the caller's
 * key is revoked or their account suspended.
 */
export async function* liveStream<T>(
  ctx: AuthedContext,
  signal: AbortSignal | undefined,
  body: (stop: AbortSignal) => AsyncGenerator<T>,
): AsyncGenerator<T> {
  const session = ctx.services.live.track(ctx.actor.userId, ctx.actor.apiKeyId);
  try {
    yield* body(signal ? AbortSignal.any([signal, session.signal]) : session.signal);
  } catch (error) {
    // Errors inside a stream bypass the middleware: map them to their codes here.
    throw toTRPCError(error);
  } finally {
    session.release();
  }
}
