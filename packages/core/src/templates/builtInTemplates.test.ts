import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { interpolate, resolveParameters } from './parameters';
import { formatManifestErrors, parseManifest } from './parseManifest';

// The daemon ships these; they live with it, and are checked here beside the parser.
function builtIn(name: string) {
  const file = fileURLToPath(
    new URL(`../../../../apps/daemon/templates/${name}/warren.yaml`, import.meta.url),
  );
  const result = parseManifest(readFileSync(file, 'utf8'));
  if (!result.ok) throw new Error(formatManifestErrors(result.errors, file));
  return result.manifest;
}

test('the built-in local template is valid and runs with its defaults', () => {
  const manifest = builtIn('local');
  const resolved = resolveParameters(manifest.parameters, {});
  if (!resolved.ok) throw new Error(JSON.stringify(resolved.errors));
  expect(interpolate(manifest.provisioner, resolved.values)).toMatchObject({
    type: 'local',
    local: { env: { DOTFILES_REPO: '', FILE_SERVER: 'true' } },
  });
});

test('the built-in docker template is valid and runs with its defaults', () => {
  const manifest = builtIn('docker');
  const resolved = resolveParameters(manifest.parameters, { apt_packages: 'git,curl' });
  if (!resolved.ok) throw new Error(JSON.stringify(resolved.errors));
  expect(interpolate(manifest.provisioner, resolved.values)).toMatchObject({
    type: 'docker',
    docker: {
      image: 'warren-test-agent:latest',
      cpus: '2',
      memoryMiB: '2048',
      network: 'host',
      env: { TZ: 'UTC', APT_PACKAGES: 'git,curl' },
    },
  });
  expect(resolveParameters(manifest.parameters, { cpus: 17 })).toMatchObject({ ok: false });
});
