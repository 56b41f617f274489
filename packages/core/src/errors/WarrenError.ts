/** Error codes shared by the daemon, the CLI, the desktop and the UI. Each maps once to HTTP. */
export const errorCodes = {
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  INTERNAL: 500,
  UPSTREAM: 502,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof errorCodes;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCodes, value);
}

/** The one error type: a code and a sentence a person understands. Never carries a stack to clients. */
export class WarrenError extends Error {
  readonly code: ErrorCode;
  /** Seconds a client should wait before retrying (TOO_MANY_REQUESTS). */
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, message: string, options?: { retryAfter?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WarrenError';
    this.code = code;
    this.retryAfter = options?.retryAfter;
  }

  get httpStatus(): number {
    return errorCodes[this.code];
  }
}
