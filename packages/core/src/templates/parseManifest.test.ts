import { describe, expect, test } from 'vitest';
import { seededRandom } from '../../test-support/seededRandom';
import { formatManifestErrors, type ManifestError, maxManifestBytes, parseManifest } from './parseManifest';

const valid = `name: dev
displayName: Dev box
parameters:
  - name: cpus
    type: number
    default: 2
    validation: { min: 1, max: 16 }
  - name: region
    type: string
    mutable: false
    validation:
      options: [eu, us]
provisioner:
  type: docker
  docker:
    image: ubuntu:24.04
    cpus: "{{ cpus }}"
    env:
      REGION: "{{ region }}"
agent:
  startupScript: echo hi
  apps:
    - slug: web
      port: 3000
  metadata:
    - key: load
      script: cat /proc/loadavg
schedule:
  defaultTtl: 8h
`;

function errorsOf(text: string): ManifestError[] {
  const result = parseManifest(text);
  if (result.ok) throw new Error('expected the manifest to be rejected');
  return result.errors;
}

/** The one error at `path`; fails when there is none. */
function errorAt(text: string, path: string): ManifestError {
  const errors = errorsOf(text);
  const found = errors.find((e) => e.path === path);
  if (found === undefined) throw new Error(`no error at ${path}; got:\n${formatManifestErrors(errors)}`);
  return found;
}

test('a valid manifest parses, with defaults filled in', () => {
  const result = parseManifest(valid);
  expect(result.ok).toBe(true);
  if (!result.ok) return;
  expect(result.manifest.parameters[0]).toMatchObject({ name: 'cpus', mutable: true, default: 2 });
  expect(result.manifest.parameters[1]).toMatchObject({ name: 'region', mutable: false });
  expect(result.manifest.provisioner).toMatchObject({
    type: 'docker',
    docker: { network: 'host', volumes: [] },
  });
  expect(result.manifest.agent.scriptTimeout).toBe('5m');
  expect(result.manifest.agent.metadata[0]).toMatchObject({ interval: '10s', timeout: '5s' });
  expect(result.manifest.schedule).toEqual({ defaultTtl: '8h', autostartAllowed: true });
});

/** Line and column (1-based) where `needle` first appears in `text`. */
function at(text: string, needle: string): { line: number; column: number } {
  const before = text.slice(0, text.indexOf(needle));
  return { line: before.split('\n').length, column: before.length - before.lastIndexOf('\n') };
}

/** `valid` with `from` replaced by `to`, and the error expected at `path`. */
function mangle(from: string, to: string, path: string): { text: string; error: ManifestError } {
  const text = valid.replace(from, to);
  expect(text).not.toBe(valid);
  return { text, error: errorAt(text, path) };
}

describe('each schema error names the field on its line', () => {
  test('wrong type points at the value', () => {
    const { text, error } = mangle('image: ubuntu:24.04', 'image: 42', 'provisioner.docker.image');
    expect(error).toEqual({
      ...at(text, '42'),
      path: 'provisioner.docker.image',
      message: '"image" must be a string, not 42.',
    });
  });

  test('a string where a number belongs', () => {
    const { text, error } = mangle('default: 2', 'default: two', 'parameters[0].default');
    expect(error).toMatchObject({ ...at(text, 'two'), message: '"default" must be a number, not "two".' });
  });

  test('a number out of range', () => {
    const { text, error } = mangle('port: 3000', 'port: 70000', 'agent.apps[0].port');
    expect(error).toMatchObject({
      ...at(text, '70000'),
      message: '"port" must be at most 65535, not 70000.',
    });
  });

  test('unknown field points at its key and suggests the real one', () => {
    const { text, error } = mangle('startupScript:', 'startup_script:', 'agent.startup_script');
    expect(error).toMatchObject({
      ...at(text, 'startup_script'),
      message: '"agent" has no field "startup_script"; did you mean "startupScript"?',
    });
  });

  test('unknown field at the top lists the fields', () => {
    const text = `${valid}colour: red\n`;
    const error = errorAt(text, 'colour');
    expect(error).toMatchObject(at(text, 'colour'));
    expect(error.message).toMatch(
      /^The manifest has no field "colour"\. Its fields are: name, displayName, /,
    );
  });

  test('missing required field points at its parent and says it is required', () => {
    const { text, error } = mangle('    image: ubuntu:24.04\n', '', 'provisioner.docker.image');
    expect(error).toMatchObject({ ...at(text, 'docker:'), message: '"image" is required.' });
  });

  test('missing top-level fields point at the first line', () => {
    expect(errorsOf('description: nothing else\n')).toEqual([
      { line: 1, column: 1, path: 'name', message: '"name" is required.' },
      { line: 1, column: 1, path: 'provisioner', message: '"provisioner" is required.' },
    ]);
  });

  test('a missing field in a list item points at the item', () => {
    const { text, error } = mangle('      script: cat /proc/loadavg\n', '', 'agent.metadata[0].script');
    expect(error).toMatchObject({ ...at(text, 'key: load'), message: '"script" is required.' });
  });

  test('bad duration quotes the value and shows the format', () => {
    const { text, error } = mangle('defaultTtl: 8h', 'defaultTtl: 8 hours', 'schedule.defaultTtl');
    expect(error).toMatchObject({
      ...at(text, '8 hours'),
      message: '"defaultTtl" cannot be "8 hours". Write a duration like 30s, 15m, 8h or 2d.',
    });
  });

  test('duplicate parameter points at the second name', () => {
    const { text, error } = mangle('name: region', 'name: cpus', 'parameters[1].name');
    const second = at(text, 'cpus\n    type: string');
    expect(error).toEqual({
      ...second,
      path: 'parameters[1].name',
      message: 'Parameter "cpus" is declared twice.',
    });
  });

  test('app with both url and port', () => {
    const { text, error } = mangle(
      'port: 3000',
      'port: 3000\n      url: http://localhost:3000',
      'agent.apps[0]',
    );
    expect(error).toMatchObject({
      ...at(text, 'slug: web'),
      message: 'An app needs exactly one of url or port.',
    });
  });

  test('unknown provisioner type lists the choices', () => {
    const { text, error } = mangle('type: docker', 'type: podman', 'provisioner.type');
    expect(error).toMatchObject({
      ...at(text, 'podman'),
      message: '"type" cannot be "podman"; use "docker" or "local".',
    });
  });

  test('an empty value says it is empty', () => {
    const { error } = mangle('name: dev', 'name:', 'name');
    expect(error).toMatchObject({ line: 1, column: 1, message: '"name" is empty; it must be a string.' });
  });

  test('invalid environment variable name points at the key', () => {
    const { text, error } = mangle('REGION:', '1REGION:', 'provisioner.docker.env["1REGION"]');
    expect(error).toMatchObject({
      ...at(text, '1REGION'),
      message: 'The key "1REGION" in "env" is not valid. Not a valid environment variable name.',
    });
  });

  test('a default that fails its own validation', () => {
    const { text, error } = mangle('default: 2', 'default: 32', 'parameters[0].default');
    expect(error).toMatchObject({ ...at(text, '32'), message: 'The default must be at most 16, not 32.' });
  });

  test('a validation regex that does not compile', () => {
    const { text, error } = mangle('options: [eu, us]', 'regex: "[a-z"', 'parameters[1].validation.regex');
    expect(error).toMatchObject({
      ...at(text, '"[a-z"'),
      message: '"regex" is not a valid regular expression.',
    });
  });

  test('a placeholder naming no parameter', () => {
    const { text, error } = mangle('{{ region }}', '{{ regoin }}', 'provisioner.docker.env.REGION');
    expect(error).toMatchObject({
      ...at(text, '"{{ regoin }}"'),
      message: '"{{ regoin }}" refers to a parameter that this template does not declare.',
    });
  });

  test('defaultTtl longer than maxTtl', () => {
    const { text, error } = mangle('defaultTtl: 8h', 'defaultTtl: 2d\n  maxTtl: 1d', 'schedule.defaultTtl');
    expect(error).toMatchObject({
      ...at(text, '2d'),
      message: '"defaultTtl" (2d) is longer than "maxTtl" (1d).',
    });
  });
});

describe('YAML problems', () => {
  test('a syntax error carries its line', () => {
    const errors = errorsOf(valid.replace('    image: ubuntu:24.04', '    image: [ubuntu'));
    expect(errors[0]?.line).toBeGreaterThanOrEqual(17);
    expect(errors[0]?.message).toMatch(/^YAML syntax error: /);
  });

  test('a duplicated key is named', () => {
    expect(errorsOf('name: a\nprovisioner: { type: local }\nname: b\n')).toEqual([
      { line: 3, column: 1, path: '', message: 'The key "name" appears twice in the same mapping.' },
    ]);
  });

  test('a tab used for indentation', () => {
    expect(errorsOf('name: a\nprovisioner:\n\ttype: local\n')[0]).toMatchObject({ line: 3 });
  });

  test('several documents in one file', () => {
    expect(errorsOf('name: a\n---\nname: b\n')[0]?.message).toMatch(/one YAML document/);
  });

  test.each([
    ['- a\n- b\n', 'not a list'],
    ['just text\n', 'not a single value'],
    ['', 'empty'],
    ['# only a comment\n', 'empty'],
  ])('a root that is not a mapping (%j)', (text, words) => {
    const [error] = errorsOf(text);
    expect(error).toMatchObject({ line: 1, column: 1, path: '' });
    expect(error?.message).toContain(words);
  });

  test('a manifest over 256 KiB is refused before parsing', () => {
    const text = `${valid}description: "${'x'.repeat(maxManifestBytes)}"\n`;
    expect(errorsOf(text)).toEqual([
      {
        line: 1,
        column: 1,
        path: '',
        message: 'The manifest is 257 KiB; a manifest may be at most 256 KiB.',
      },
    ]);
  });

  test('alias bombs are refused', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++)
      lines.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(', ')}]`,
      );
    expect(errorsOf(lines.join('\n'))[0]?.message).toMatch(/could not be read/);
  });
});

test('formatManifestErrors writes file:line:column: path: message', () => {
  const text = formatManifestErrors(
    [
      { line: 12, column: 5, path: 'parameters[1].default', message: '"default" must be a number, not "x".' },
      { line: 2, column: 1, path: '', message: 'YAML syntax error: Oops.' },
    ],
    'templates/dev/warren.yaml',
  );
  expect(text).toBe(
    'templates/dev/warren.yaml:12:5: parameters[1].default: "default" must be a number, not "x".\n' +
      'templates/dev/warren.yaml:2:1: YAML syntax error: Oops.',
  );
});

test('fuzz: mangled manifests never throw and every error has a line', () => {
  const { next: random, pick } = seededRandom(0x5eed);
  const noise = [...'{}[]:-#&*!|>%@`\'"\t\n ,?~0aZ9', '{{ cpus }}', '- ', ': ', '\n  ', 'null', '*a', '&a '];
  const mutations: ((text: string) => string)[] = [
    (t) => t.slice(0, Math.floor(random() * t.length)),
    (t) => {
      const at = Math.floor(random() * t.length);
      return t.slice(0, at) + t.slice(at + 1 + Math.floor(random() * 20));
    },
    (t) => {
      const at = Math.floor(random() * t.length);
      return t.slice(0, at) + pick(noise) + t.slice(at);
    },
    (t) => {
      const lines = t.split('\n');
      const i = Math.floor(random() * lines.length);
      lines.splice(i, 0, lines[Math.floor(random() * lines.length)] ?? '');
      return lines.join('\n');
    },
    (t) => {
      const lines = t.split('\n');
      const i = Math.floor(random() * lines.length);
      lines[i] = random() < 0.5 ? `  ${lines[i]}` : (lines[i] ?? '').replace(/^ {1,2}/, '');
      return lines.join('\n');
    },
  ];

  for (let round = 0; round < 500; round++) {
    let text = valid;
    const steps = 1 + Math.floor(random() * 4);
    for (let i = 0; i < steps; i++) text = pick(mutations)(text);
    const result = parseManifest(text);
    if (result.ok) continue;
    expect(result.errors.length, text).toBeGreaterThan(0);
    const lines = text.split('\n').length;
    for (const e of result.errors) {
      expect(e.line, text).toBeGreaterThanOrEqual(1);
      expect(e.line, text).toBeLessThanOrEqual(lines + 1);
      expect(e.column, text).toBeGreaterThanOrEqual(1);
      expect(e.message, text).toMatch(/\S/);
    }
  }
});
