import { z } from 'zod';
import { findPlaceholders, parameterDeclarationProblems } from './parameters';

/**
 * A template's manifest (`warren.yaml`). Strings in the provisioner section may use
 * `{{ parameter_name }}`; the daemon substitutes the workspace's parameter values before a
 * provisioner sees them, so provisioners receive concrete `*Resources` values.
 */

const slug = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]{0,62}$/,
    'Use lowercase letters, digits and "_", starting with a letter (at most 63).',
  );

/** Durations are written as 30s, 15m, 8h or 2d. */
export const durationSchema = z.string().regex(/^\d+(s|m|h|d)$/, 'Write a duration like 30s, 15m, 8h or 2d.');

export function durationMs(value: string): number {
  const n = Number.parseInt(value, 10);
  const unit = value.at(-1);
  return n * (unit === 's' ? 1000 : unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : 86_400_000);
}

const parameterBase = {
  name: slug,
  displayName: z.string().max(100).optional(),
  description: z.string().max(2000).optional(),
  /** Immutable parameters are fixed at creation; updates may not change them. */
  mutable: z.boolean().default(true),
};

export const parameterSchema = z.discriminatedUnion('type', [
  z
    .object({
      ...parameterBase,
      type: z.literal('string'),
      default: z.string().optional(),
      validation: z
        .object({
          regex: z.string().optional(),
          error: z.string().optional(),
          minLength: z.number().int().min(0).optional(),
          maxLength: z.number().int().min(1).optional(),
          options: z.array(z.string()).min(1).optional(),
        })
        .strict()
        .optional(),
    })
    .strict(),
  z
    .object({
      ...parameterBase,
      type: z.literal('number'),
      default: z.number().optional(),
      validation: z
        .object({ min: z.number().optional(), max: z.number().optional(), integer: z.boolean().optional() })
        .strict()
        .optional(),
    })
    .strict(),
  z.object({ ...parameterBase, type: z.literal('bool'), default: z.boolean().optional() }).strict(),
  z
    .object({
      ...parameterBase,
      type: z.literal('list'),
      default: z.array(z.string()).optional(),
      validation: z
        .object({
          minItems: z.number().int().min(0).optional(),
          maxItems: z.number().int().min(1).optional(),
        })
        .strict()
        .optional(),
    })
    .strict(),
]);
export type TemplateParameter = z.infer<typeof parameterSchema>;
export type ParameterValue = string | number | boolean | string[];

const envSchema = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'Not a valid environment variable name.'),
  z.string(),
);

export const dockerResourcesSchema = z
  .object({
    image: z.string().min(1),
    env: envSchema.default({}),
    /** CPU cores (fractions allowed) and memory in MiB; unset means no limit. */
    cpus: z.union([z.number().positive().max(512), z.string()]).optional(),
    memoryMiB: z.union([z.number().int().min(16).max(1_048_576), z.string()]).optional(),
    /** Extra named volumes that, like home, survive stop and start. */
    volumes: z.array(z.object({ name: slug, path: z.string().startsWith('/') }).strict()).default([]),
    network: z.enum(['host', 'bridge', 'none']).default('host'),
  })
  .strict();
export type DockerResources = z.infer<typeof dockerResourcesSchema>;

export const localResourcesSchema = z
  .object({
    /** The working directory, relative to the workspace's home directory. */
    workdir: z.string().default('.'),
    env: envSchema.default({}),
    /** Run the agent inside bubblewrap when `bwrap` exists. */
    sandbox: z.boolean().default(false),
  })
  .strict();
export type LocalResources = z.infer<typeof localResourcesSchema>;

export const provisionerSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('docker'),
      docker: dockerResourcesSchema,
      tags: z.record(z.string(), z.string()).default({}),
    })
    .strict(),
  z
    .object({
      type: z.literal('local'),
      local: localResourcesSchema.default({ workdir: '.', env: {}, sandbox: false }),
      tags: z.record(z.string(), z.string()).default({}),
    })
    .strict(),
]);
export type ProvisionerSpec = z.infer<typeof provisionerSchema>;

export const agentSpecSchema = z
  .object({
    startupScript: z.string().max(100_000).optional(),
    shutdownScript: z.string().max(100_000).optional(),
    /** Scripts run with this timeout; a startup script that fails marks the agent start_error. */
    scriptTimeout: durationSchema.default('5m'),
    apps: z
      .array(
        z
          .object({
            slug,
            displayName: z.string().max(100).optional(),
            url: z.url().optional(),
            port: z.number().int().min(1).max(65535).optional(),
            healthcheck: z
              .object({
                url: z.url(),
                interval: durationSchema.default('10s'),
                threshold: z.number().int().min(1).max(100).default(3),
              })
              .strict()
              .optional(),
          })
          .strict()
          .refine(
            (a) => (a.url === undefined) !== (a.port === undefined),
            'An app needs exactly one of url or port.',
          ),
      )
      .default([]),
    metadata: z
      .array(
        z
          .object({
            key: slug,
            displayName: z.string().max(100).optional(),
            script: z.string().min(1).max(10_000),
            interval: durationSchema.default('10s'),
            timeout: durationSchema.default('5s'),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();
export type AgentSpec = z.infer<typeof agentSpecSchema>;

export const scheduleSpecSchema = z
  .object({
    /** Stop this long after the last activity; users may choose up to maxTtl. */
    defaultTtl: durationSchema.optional(),
    maxTtl: durationSchema.optional(),
    autostartAllowed: z.boolean().default(true),
  })
  .strict();

export const manifestSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'Use lowercase letters, digits and "-" (at most 63).'),
    displayName: z.string().max(100).optional(),
    description: z.string().max(5000).optional(),
    parameters: z.array(parameterSchema).default([]),
    provisioner: provisionerSchema,
    agent: agentSpecSchema.default({ scriptTimeout: '5m', apps: [], metadata: [] }),
    schedule: scheduleSpecSchema.default({ autostartAllowed: true }),
  })
  .strict()
  .superRefine((m, ctx) => {
    const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const twice = (items: { name: string; path: PropertyKey[] }[], noun: string) => {
      const seen = new Set<string>();
      for (const { name, path } of items) {
        if (seen.has(name)) issue(path, `${noun} "${name}" is declared twice.`);
        seen.add(name);
      }
    };
    twice(
      m.parameters.map((p, i) => ({ name: p.name, path: ['parameters', i, 'name'] })),
      'Parameter',
    );
    twice(
      m.agent.apps.map((a, i) => ({ name: a.slug, path: ['agent', 'apps', i, 'slug'] })),
      'App',
    );
    twice(
      m.agent.metadata.map((d, i) => ({ name: d.key, path: ['agent', 'metadata', i, 'key'] })),
      'Metadata item',
    );
    m.parameters.forEach((p, i) => {
      for (const problem of parameterDeclarationProblems(p))
        issue(['parameters', i, ...problem.path], problem.message);
    });
    const declared = new Set(m.parameters.map((p) => p.name));
    for (const { path, name } of findPlaceholders(m.provisioner)) {
      if (!declared.has(name))
        issue(
          ['provisioner', ...path],
          `"{{ ${name} }}" refers to a parameter that this template does not declare.`,
        );
    }
    const { defaultTtl, maxTtl } = m.schedule;
    if (defaultTtl !== undefined && maxTtl !== undefined && durationMs(defaultTtl) > durationMs(maxTtl))
      issue(['schedule', 'defaultTtl'], `"defaultTtl" (${defaultTtl}) is longer than "maxTtl" (${maxTtl}).`);
  });
export type TemplateManifest = z.output<typeof manifestSchema>;
