import { TRPCClientError } from '@trpc/client';
import { WarrenError } from '@warren/core';

/**
 * What the user sees when a command fails: one sentence, never a stack or a credential.
 * Exit 1 for anything the user or the server can explain, 2 for a bug in the CLI.
 */
export function describeCliError(error: unknown): { message: string; exitCode: number } {
  if (error instanceof TRPCClientError) {
    // Transport failures (unreachable, not a Warren server) are WarrenErrors from apiClient.
    if (error.cause instanceof WarrenError) return { message: error.cause.message, exitCode: 1 };
    // The server's error formatter already wrote a sentence for the user.
    if (error.data) return { message: error.message, exitCode: 1 };
    return {
      message: `the server sent an answer the CLI does not understand: ${error.message}`,
      exitCode: 1,
    };
  }
  if (error instanceof WarrenError) return { message: error.message, exitCode: 1 };
  return { message: `unexpected error: ${(error as Error)?.message ?? String(error)}`, exitCode: 2 };
}

/** The Warren error code an API call failed with, if it reached the server. */
export function apiErrorCode(error: unknown): string | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const code = (error.data as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
