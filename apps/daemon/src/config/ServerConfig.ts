import os from 'node:os';
import path from 'node:path';
import { WarrenError } from '@warren/core';
import { z } from 'zod';

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Every `warren server` setting: a flag, and a WARREN_* environment variable of the same name. */
export const serverOptions = [
  {
    flag: 'listen',
    env: 'WARREN_LISTEN',
    describe: 'address and port to listen on',
    default: '127.0.0.1:3000',
  },
  {
    flag: 'access-url',
    env: 'WARREN_ACCESS_URL',
    describe: 'the URL people and workspaces use to reach this server',
  },
  {
    flag: 'data-dir',
    env: 'WARREN_DATA_DIR',
    describe: 'where the embedded database and workspace files live',
  },
  {
    flag: 'postgres-url',
    env: 'WARREN_POSTGRES_URL',
    describe: 'use this PostgreSQL database instead of the embedded SQLite',
  },
  { flag: 'tls-cert', env: 'WARREN_TLS_CERT', describe: 'PEM certificate file; serve HTTPS' },
  { flag: 'tls-key', env: 'WARREN_TLS_KEY', describe: 'PEM private key file for --tls-cert' },
  { flag: 'log-level', env: 'WARREN_LOG_LEVEL', describe: `one of ${logLevels.join(', ')}`, default: 'info' },
  { flag: 'log-format', env: 'WARREN_LOG_FORMAT', describe: 'json or text', default: 'text' },
  {
    flag: 'provisioners',
    env: 'WARREN_PROVISIONERS',
    describe: 'builds the built-in provisioner runs at once (0: only external provisioners build)',
    default: '8',
  },
  {
    flag: 'workspace-quota',
    env: 'WARREN_WORKSPACE_QUOTA',
    describe: 'workspaces each user may have',
    default: '50',
  },
  {
    // Hidden from help: for deployments that turn the AI gateway off. Chat model calls then go
    // straight to the provider and leave no usage records.
    flag: 'chat-direct-provider',
    env: 'WARREN_CHAT_DIRECT_PROVIDER',
    describe: 'send chat model calls straight to the provider, not through the AI gateway',
    default: 'false',
    hidden: true,
  },
] as const;

const listenSchema = z.string().transform((value, ctx) => {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not HOST:PORT (for example 127.0.0.1:3000 or :3000).`,
    });
    return z.NEVER;
  }
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
});

const configSchema = z
  .object({
    listen: listenSchema,
    accessUrl: z.url({ message: 'Access URL must be an absolute http(s) URL.' }).optional(),
    dataDir: z.string().min(1),
    postgresUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'PostgreSQL URL must start with postgres:// or postgresql://.')
      .optional(),
    tlsCert: z.string().optional(),
    tlsKey: z.string().optional(),
    logLevel: z.enum(logLevels),
    logFormat: z.enum(['json', 'text']),
    provisioners: z.coerce.number().int('Provisioners must be a whole number.').min(0).max(256),
    workspaceQuota: z.coerce.number().int('The workspace quota must be a whole number.').min(0).max(100_000),
    chatDirectProvider: z
      .enum(['true', 'false', '1', '0'], { message: 'chat-direct-provider must be true or false.' })
      .transform((v) => v === 'true' || v === '1'),
  })
  .strict()
  .refine((c) => Boolean(c.tlsCert) === Boolean(c.tlsKey), {
    message: '--tls-cert and --tls-key must be given together.',
  });

export type ServerConfig = z.output<typeof configSchema>;

export function defaultDataDir(): string {
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'warren');
}

type RawOptions = Partial<Record<(typeof serverOptions)[number]['flag'], string | undefined>>;

/** Flags win over WARREN_* variables, which win over defaults. */
export function resolveServerConfig(flags: RawOptions, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const pick = (option: (typeof serverOptions)[number]): string | undefined =>
    flags[option.flag] ??
    (env[option.env] || undefined) ??
    ('default' in option ? option.default : undefined);
  const byFlag = Object.fromEntries(serverOptions.map((o) => [o.flag, pick(o)]));
  const parsed = configSchema.safeParse({
    listen: byFlag.listen,
    accessUrl: byFlag['access-url'],
    dataDir: byFlag['data-dir'] ?? defaultDataDir(),
    postgresUrl: byFlag['postgres-url'],
    tlsCert: byFlag['tls-cert'],
    tlsKey: byFlag['tls-key'],
    logLevel: byFlag['log-level'],
    logFormat: byFlag['log-format'],
    provisioners: byFlag.provisioners,
    workspaceQuota: byFlag['workspace-quota'],
    chatDirectProvider: byFlag['chat-direct-provider'],
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new WarrenError(
      'INVALID_INPUT',
      `Invalid server setting: ${where}${issue?.message ?? 'unknown problem'}`,
    );
  }
  return parsed.data;
}
