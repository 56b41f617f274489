import { z } from 'zod';
import { manifestSchema } from './manifest';
import committedSchema from './warren.schema.json' with { type: 'json' };

/**
 * The JSON Schema (draft 2020-12) of what an author may write in `warren.yaml`: defaults are
 * shown but not required. Cross-field rules (duplicates, defaults that fail their own
 * validation, unknown `{{ parameters }}`) are only checked by `parseManifest`.
 */
export function generateManifestJsonSchema(): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(manifestSchema, { io: 'input', target: 'draft-2020-12' });
  return {
    $schema,
    title: 'Warren template manifest (warren.yaml)',
    description: 'A template: its parameters, provisioner, workspace agent and schedule defaults.',
    ...rest,
  };
}

/**
 * The generated schema as committed in `warren.schema.json` (for editors, the API and the UI),
 * so importing it costs nothing at start-up; a test fails when it falls behind `manifestSchema`.
 */
export const manifestJsonSchema: Record<string, unknown> = committedSchema;
