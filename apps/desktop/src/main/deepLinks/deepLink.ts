import { describeIssues, WarrenError } from '@warren/core';
import { z } from 'zod';

export const DEEP_LINK_SCHEME = 'warren:';

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/i, 'A workspace name has letters, digits and dashes (at most 63).');

/** `warren://open?workspace=NAME|OWNER/NAME[&deployment=URL-or-id][&action=...]`. */
const openLink = z
  .object({
    workspace: z
      .string()
      .transform((value, ctx) => {
        const parts = value.split('/');
        if (parts.length > 2) {
          ctx.addIssue({ code: 'custom', message: `"${value}" is not a workspace; use NAME or OWNER/NAME.` });
          return z.NEVER;
        }
        const [first = '', second] = parts;
        return second === undefined ? { owner: undefined, name: first } : { owner: first, name: second };
      })
      .pipe(z.object({ owner: name.optional(), name })),
    deployment: z.string().min(1).max(2048).optional(),
    action: z.enum(['show', 'connect', 'terminal', 'vscode']).default('show'),
  })
  .strict();

export type DeepLink = {
  kind: 'open';
  workspace: { owner?: string; name: string };
  deployment?: string;
  action: 'show' | 'connect' | 'terminal' | 'vscode';
};

/**
 * Parses a `warren://` link the OS handed the app (argv on Windows/Linux, open-url on macOS).
 * Anything else is refused with a sentence: a link comes from a web page, so it is input like any other.
 */
export function parseDeepLink(text: string): DeepLink {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WarrenError('INVALID_INPUT', `"${clip(text)}" is not a Warren link.`);
  }
  if (url.protocol !== DEEP_LINK_SCHEME)
    throw new WarrenError(
      'INVALID_INPUT',
      `"${clip(text)}" is not a Warren link; it must start with warren://.`,
    );
  // warren://open?… puts "open" in the host; warren:open?… in the path.
  const verb = (url.host || url.pathname).replace(/^\/+|\/+$/g, '');
  if (verb !== 'open')
    throw new WarrenError('INVALID_INPUT', `Warren links can only open a workspace, not "${clip(verb)}".`);
  const params: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    if (key in params) throw new WarrenError('INVALID_INPUT', `The Warren link gives "${clip(key)}" twice.`);
    params[key] = value;
  }
  if (!params.workspace)
    throw new WarrenError('INVALID_INPUT', 'The Warren link does not name a workspace (?workspace=NAME).');
  const parsed = openLink.safeParse(params);
  if (!parsed.success)
    throw new WarrenError(
      'INVALID_INPUT',
      `The Warren link is not valid: ${describeIssues(parsed.error.issues)}`,
    );
  const { workspace, deployment, action } = parsed.data;
  return {
    kind: 'open',
    workspace: workspace.owner ? { owner: workspace.owner, name: workspace.name } : { name: workspace.name },
    ...(deployment ? { deployment } : {}),
    action,
  };
}

/** The first `warren://` argument, as Windows and Linux pass a clicked link on the command line. */
export function deepLinkFromArgv(argv: readonly string[]): string | undefined {
  return argv.find((arg) => arg.toLowerCase().startsWith('warren:'));
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
