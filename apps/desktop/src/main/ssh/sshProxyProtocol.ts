import { z } from 'zod';

/**
 * The local ProxyCommand protocol. OpenSSH runs the small proxy program, which connects to the
 * desktop's socket and sends one JSON line; the desktop answers one JSON line, then both sides
 * carry raw SSH bytes. The desktop holds the token, so OpenSSH never sees it; the key (a file only
 * this user can read) keeps other local users' programs from borrowing the desktop's sign-in.
 */
export const proxyHello = z
  .object({
    v: z.literal(1),
    key: z.string().regex(/^[0-9a-f]{64}$/),
    /** NAME or OWNER/NAME. */
    workspace: z.string().regex(/^(?:[a-z0-9][a-z0-9_-]{0,62}\/)?[a-z0-9][a-z0-9-]{0,62}$/i),
    /** The Host alias the pinned host key is recorded under. */
    alias: z.string().regex(/^warren\.[a-z0-9-]+(?:--[a-z0-9-]+)?$/i),
  })
  .strict();
export type ProxyHello = z.infer<typeof proxyHello>;

export type ProxyAnswer = { ok: true } | { ok: false; error: string };

/** The longest hello line accepted; anything longer is not a Warren proxy. */
export const MAX_HELLO_BYTES = 1024;
