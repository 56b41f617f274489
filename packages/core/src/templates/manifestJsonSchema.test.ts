import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { generateManifestJsonSchema } from './manifestJsonSchema';

const file = fileURLToPath(new URL('./warren.schema.json', import.meta.url));

// Compared as data, not text, so the repository's formatter may lay the file out as it likes.
test('warren.schema.json matches the manifest schema', () => {
  const fresh = generateManifestJsonSchema();
  if (process.env.WARREN_UPDATE_SCHEMA === '1') writeFileSync(file, `${JSON.stringify(fresh, null, 2)}\n`);
  const committed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  expect(
    committed,
    'warren.schema.json is stale: in packages/core run `WARREN_UPDATE_SCHEMA=1 npx vitest run src/templates/manifestJsonSchema.test.ts`, then `npx biome format --write src/templates/warren.schema.json`.',
  ).toEqual(fresh);
});
