import { z } from 'zod';

export const workspaceNameSchema = z
  .string()
  .min(1, 'Workspace name must not be empty.')
  .max(32, 'Workspace name must be at most 32 characters.')
  .regex(
    /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/,
    'Workspace name may use lowercase letters, digits and "-", not at either end.',
  );

export const templateNameSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'Template name may use lowercase letters, digits and "-".');

/** Parameter values as clients send them: typed, or strings that the template's types coerce. */
export const parameterValuesSchema = z
  .record(
    z.string().max(63),
    z.union([z.string().max(10_000), z.number(), z.boolean(), z.array(z.string().max(1000)).max(100)]),
  )
  .refine((r) => Object.keys(r).length <= 100, 'At most 100 parameters.');

export const workspaceStatuses = [
  'pending',
  'starting',
  'running',
  'stopping',
  'stopped',
  'failed',
  'canceling',
  'canceled',
  'deleting',
  'deleted',
] as const;
export type WorkspaceStatus = (typeof workspaceStatuses)[number];

/** A workspace is addressed by its owner and name; `owner` defaults to the caller. */
export const workspaceRefInput = z
  .object({ owner: z.string().max(32).optional(), name: workspaceNameSchema })
  .strict();

/** `NAME` or `OWNER/NAME` as typed on a command line or in a URL, split for workspaceRefInput. */
export function splitWorkspaceRef(raw: string): { owner?: string; name: string } {
  const slash = raw.indexOf('/');
  return slash < 0 ? { name: raw } : { owner: raw.slice(0, slash), name: raw.slice(slash + 1) };
}

/** Autostop after this many minutes without activity; 0 turns it off. At most 30 days. */
const autostopMinutesSchema = z
  .number()
  .int()
  .min(0)
  .max(60 * 24 * 30);

/** Autostart: a cron expression read in an IANA time zone. */
const autostartSchema = z.object({ cron: z.string().max(100), timezone: z.string().max(64) }).strict();

export const createWorkspaceInput = z
  .object({
    name: workspaceNameSchema,
    template: templateNameSchema,
    parameters: parameterValuesSchema.default({}),
    autostopMinutes: autostopMinutesSchema.optional(),
    autostart: autostartSchema.optional(),
  })
  .strict();

export const transitionInput = workspaceRefInput;

export const updateWorkspaceInput = workspaceRefInput
  .extend({ parameters: parameterValuesSchema.default({}) })
  .strict();

export const deleteWorkspaceInput = workspaceRefInput.extend({ orphan: z.boolean().default(false) }).strict();

export const scheduleInput = workspaceRefInput
  .extend({
    autostopMinutes: autostopMinutesSchema.optional(),
    autostart: autostartSchema.nullable().optional(),
  })
  .strict();

export const listWorkspacesInput = z
  .object({
    owner: z.string().max(32).optional(),
    /** All owners' workspaces (owners and auditors). */
    all: z.boolean().optional(),
    search: z.string().max(100).optional(),
    status: z.enum(workspaceStatuses).optional(),
    template: z.string().max(63).optional(),
  })
  .strict()
  .optional();

export const buildLogsInput = workspaceRefInput
  .extend({ build: z.number().int().min(1).optional(), afterSeq: z.number().int().min(0).optional() })
  .strict();

export const pushTemplateInput = z
  .object({
    name: templateNameSchema,
    /** warren.yaml as written. */
    manifest: z.string().max(256 * 1024),
    /** Other files of the template directory: relative path -> base64 content. */
    files: z.record(z.string().max(255), z.string().max(1024 * 1024)).default({}),
    message: z.string().max(1000).optional(),
    /** Make this version the active one (the first version always is). */
    activate: z.boolean().default(true),
  })
  .strict();

export const templateRefInput = z.object({ name: templateNameSchema }).strict();
export const templateVersionRefInput = z
  .object({ name: templateNameSchema, version: z.number().int().min(1).optional() })
  .strict();
