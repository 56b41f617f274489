import { describeIssues, WarrenError } from '@warren/core';
import { z } from 'zod';

/** A daemon URL as a person types it: http(s), no credentials, no query; the trailing slash dropped. */
export const deploymentUrlSchema = z
  .string()
  .trim()
  .min(1, 'Enter the Warren server address, e.g. https://warren.example.com.')
  .transform((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a web address; use https://host[:port].` });
      return z.NEVER;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      ctx.addIssue({ code: 'custom', message: `"${text}" must start with https:// or http://.` });
    if (url.username || url.password)
      ctx.addIssue({ code: 'custom', message: 'Put the token in the token field, not in the address.' });
    if (url.search || url.hash)
      ctx.addIssue({ code: 'custom', message: `"${text}" must not carry a query or fragment.` });
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  });

export const deploymentIdSchema = z.string().regex(/^[a-z0-9-]{1,64}$/, 'That is not a deployment id.');

export const addDeploymentInput = z
  .object({
    url: deploymentUrlSchema,
    token: z.string().trim().min(1, 'Paste an API token (warren tokens create).').max(4096),
    /** Shown in the tray; defaults to the host name. */
    name: z.string().trim().min(1).max(80).optional(),
  })
  .strict();
export type AddDeploymentInput = z.input<typeof addDeploymentInput>;

export function parseAddDeploymentInput(input: unknown): z.output<typeof addDeploymentInput> {
  const parsed = addDeploymentInput.safeParse(input);
  if (!parsed.success) throw new WarrenError('INVALID_INPUT', describeIssues(parsed.error.issues));
  return parsed.data;
}

/** The file in userData: tokens only as safeStorage ciphertext, base64. */
export const deploymentsFileSchema = z
  .object({
    version: z.literal(1),
    active: deploymentIdSchema.nullable(),
    deployments: z.array(
      z
        .object({
          id: deploymentIdSchema,
          name: z.string(),
          url: z.string(),
          encryptedToken: z.string(),
          addedAt: z.string(),
          /** Forward ports over WireGuard when this computer and the server can (absent: no). */
          wireguard: z.boolean().optional(),
        })
        .strict(),
    ),
  })
  .strict();
export type DeploymentsFile = z.infer<typeof deploymentsFileSchema>;

/** What the renderer and the tray may see of a deployment: everything but the token. */
export interface Deployment {
  id: string;
  name: string;
  url: string;
  active: boolean;
  addedAt: string;
  /** The person asked for WireGuard for this server's port forwards. */
  wireguard: boolean;
}
