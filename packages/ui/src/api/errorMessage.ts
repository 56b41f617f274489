import { TRPCClientError } from '@trpc/client';

export const OFFLINE_MESSAGE = 'Could not reach the Warren server. Check that it is running and try again.';

/** The Warren error code of a failed call (UNAUTHORIZED, NOT_FOUND, ...), when the server sent one. */
export function errorCode(error: unknown): string | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const data = error.data as { code?: unknown } | undefined;
  return typeof data?.code === 'string' ? data.code : undefined;
}

/**
 * A sentence for a person. The daemon's messages already are sentences; what is left is the
 * network failing, which the browser reports as a bare "Failed to fetch".
 */
export function errorMessage(error: unknown): string {
  if (error instanceof TRPCClientError) {
    if (errorCode(error) !== undefined && error.message) return error.message;
    return OFFLINE_MESSAGE;
  }
  if (error instanceof TypeError) return OFFLINE_MESSAGE;
  if (error instanceof Error && /[.!?]$/.test(error.message)) return error.message;
  return 'Something went wrong. Try again; if it keeps happening, ask your Warren administrator.';
}
