import { z } from 'zod';

export const loginInput = z
  .object({
    /** Username or email. */
    login: z.string().min(1, 'Enter a username or email.').max(254),
    password: z.string().min(1, 'Enter a password.').max(256),
    /** Where the session goes: a cookie for the web, the response body for the CLI and desktop. */
    sessionIn: z.enum(['cookie', 'body']).default('cookie'),
  })
  .strict();

const MAX_TOKEN_LIFETIME_SECONDS = 365 * 24 * 3600;

export const tokenNameSchema = z
  .string()
  .min(1, 'Token name must not be empty.')
  .max(64, 'Token name must be at most 64 characters.')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'Token name may use letters, digits, ".", "-" and "_".');

export const createTokenInput = z
  .object({
    name: tokenNameSchema,
    lifetimeSeconds: z
      .number()
      .int()
      .min(60, 'Token lifetime must be at least 60 seconds.')
      .max(MAX_TOKEN_LIFETIME_SECONDS, 'Token lifetime must be at most 365 days.')
      .optional(),
  })
  .strict();

export const listTokensInput = z
  .object({ username: z.string().max(32).optional(), includeRevoked: z.boolean().optional() })
  .strict()
  .optional();

export const revokeTokenInput = z.object({ id: z.string().min(1).max(64) }).strict();

export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  username: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type ApiKey = z.infer<typeof apiKeySchema>;

export const DEFAULT_TOKEN_LIFETIME_SECONDS = 30 * 24 * 3600;
export { MAX_TOKEN_LIFETIME_SECONDS };
