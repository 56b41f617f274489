import { describe, expect, test } from 'vitest';
import { WarrenError } from '../errors/WarrenError';
import { parameterSchema, type TemplateParameter } from './manifest';
import { interpolate, resolveParameters } from './parameters';

const params: TemplateParameter[] = [
  { name: 'image', type: 'string', default: 'ubuntu:24.04' },
  { name: 'region', type: 'string', mutable: false, validation: { options: ['eu', 'us'] } },
  { name: 'cpus', type: 'number', default: 2, validation: { min: 1, max: 16, integer: true } },
  { name: 'gpu', type: 'bool', default: false },
  { name: 'ports', type: 'list', default: [], validation: { maxItems: 3 } },
].map((p) => parameterSchema.parse(p));

function errorsOf(result: ReturnType<typeof resolveParameters>) {
  if (result.ok) throw new Error(`expected errors, got ${JSON.stringify(result.values)}`);
  return result.errors;
}

describe('create', () => {
  test('defaults fill what is not given', () => {
    expect(resolveParameters(params, { region: 'eu' })).toEqual({
      ok: true,
      values: { image: 'ubuntu:24.04', region: 'eu', cpus: 2, gpu: false, ports: [] },
    });
  });

  test('a parameter without a default is required', () => {
    expect(errorsOf(resolveParameters(params, {}))).toEqual([
      { parameter: 'region', message: 'Parameter region is required; give a value.' },
    ]);
  });

  test('CLI text is read as numbers, booleans and lists', () => {
    const result = resolveParameters(params, { region: 'us', cpus: '4', gpu: 'TRUE', ports: '3000, 8080' });
    expect(result).toMatchObject({ ok: true, values: { cpus: 4, gpu: true, ports: ['3000', '8080'] } });
    expect(resolveParameters(params, { region: 'us', ports: '["a,b", "c"]' })).toMatchObject({
      values: { ports: ['a,b', 'c'] },
    });
    expect(resolveParameters(params, { region: 'us', ports: '' })).toMatchObject({ values: { ports: [] } });
  });

  test('text that is not the type is refused', () => {
    expect(errorsOf(resolveParameters(params, { region: 'eu', cpus: 'four', gpu: 'yes', image: 3 }))).toEqual(
      [
        { parameter: 'image', message: 'Parameter image must be text, not 3.' },
        { parameter: 'cpus', message: 'Parameter cpus must be a number, not "four".' },
        { parameter: 'gpu', message: 'Parameter gpu must be true or false, not "yes".' },
      ],
    );
  });

  test.each([
    [{ region: 'mars' }, 'region', 'Parameter region must be one of "eu", "us", not "mars".'],
    [{ region: 'eu', cpus: 0 }, 'cpus', 'Parameter cpus must be at least 1, not 0.'],
    [{ region: 'eu', cpus: '32' }, 'cpus', 'Parameter cpus must be at most 16, not 32.'],
    [{ region: 'eu', cpus: 1.5 }, 'cpus', 'Parameter cpus must be a whole number, not 1.5.'],
    [{ region: 'eu', ports: 'a,b,c,d' }, 'ports', 'Parameter ports takes at most 3 items, not 4.'],
  ])('validation: %j', (given, parameter, message) => {
    expect(errorsOf(resolveParameters(params, given))).toEqual([{ parameter, message }]);
  });

  test('regex validation shows the template author’s explanation', () => {
    const repo = parameterSchema.parse({
      name: 'repo',
      type: 'string',
      validation: { regex: '^https://', error: 'Use an https:// URL.' },
    });
    expect(resolveParameters([repo], { repo: 'https://example.com/x.git' }).ok).toBe(true);
    expect(errorsOf(resolveParameters([repo], { repo: 'git@example.com:x.git' }))).toEqual([
      { parameter: 'repo', message: 'Parameter repo is not valid: Use an https:// URL.' },
    ]);
  });

  test('string length and list size limits', () => {
    const name = parameterSchema.parse({
      name: 'n',
      type: 'string',
      validation: { minLength: 2, maxLength: 4 },
    });
    const tags = parameterSchema.parse({ name: 't', type: 'list', validation: { minItems: 1 } });
    expect(errorsOf(resolveParameters([name, tags], { n: 'x', t: [] }))).toEqual([
      { parameter: 'n', message: 'Parameter n must be at least 2 characters long.' },
      { parameter: 't', message: 'Parameter t needs at least 1 item, not 0.' },
    ]);
  });

  test('unknown parameters are refused', () => {
    expect(errorsOf(resolveParameters(params, { region: 'eu', colour: 'red' }))).toEqual([
      {
        parameter: 'colour',
        message:
          'Parameter colour is not declared by this template. Its parameters are: image, region, cpus, gpu, ports.',
      },
    ]);
  });
});

describe('update to a new version', () => {
  const previous = { image: 'debian:12', region: 'eu', cpus: 4, gpu: true, ports: ['80'] };

  test('keeps the previous values, even where the default differs', () => {
    expect(resolveParameters(params, {}, { previous })).toEqual({ ok: true, values: previous });
  });

  test('asks only for new required parameters', () => {
    const newVersion = [...params, parameterSchema.parse({ name: 'team', type: 'string' })];
    expect(errorsOf(resolveParameters(newVersion, {}, { previous }))).toEqual([
      {
        parameter: 'team',
        message: 'Parameter team is new in this version and has no default; give a value.',
      },
    ]);
    expect(resolveParameters(newVersion, { team: 'infra' }, { previous })).toMatchObject({
      ok: true,
      values: { ...previous, team: 'infra' },
    });
  });

  test('a new parameter with a default takes it', () => {
    const newVersion = [...params, parameterSchema.parse({ name: 'shell', type: 'string', default: 'bash' })];
    expect(resolveParameters(newVersion, {}, { previous })).toMatchObject({ values: { shell: 'bash' } });
  });

  test('mutable parameters change', () => {
    expect(resolveParameters(params, { cpus: '8' }, { previous })).toMatchObject({ values: { cpus: 8 } });
  });

  test('an immutable parameter cannot change', () => {
    expect(errorsOf(resolveParameters(params, { region: 'us' }, { previous }))).toEqual([
      { parameter: 'region', message: 'Parameter region cannot be changed after the workspace is created.' },
    ]);
    expect(resolveParameters(params, { region: 'eu' }, { previous }).ok).toBe(true);
  });

  test('parameters the new version dropped are forgotten', () => {
    const result = resolveParameters(params, {}, { previous: { ...previous, old: 'x' } });
    expect(result).toMatchObject({ ok: true });
    expect(result.ok && 'old' in result.values).toBe(false);
  });

  test('a kept value the new version rejects must be given again', () => {
    const stricter = params.map((p) =>
      p.name === 'cpus' ? parameterSchema.parse({ name: 'cpus', type: 'number', validation: { max: 2 } }) : p,
    );
    expect(errorsOf(resolveParameters(stricter, {}, { previous }))).toEqual([
      {
        parameter: 'cpus',
        message:
          "Parameter cpus must be at most 2, not 4. The workspace's current value is not valid in this version; give a new value.",
      },
    ]);
    expect(resolveParameters(stricter, { cpus: 2 }, { previous }).ok).toBe(true);
  });
});

describe('interpolate', () => {
  const values = { image: 'ubuntu:24.04', cpus: 2, gpu: false, ports: ['3000', '8080'] };

  test('replaces placeholders deeply, with lists joined by commas', () => {
    const spec = {
      image: '{{ image }}',
      cpus: '{{cpus}}',
      env: { PORTS: '{{ ports }}', LINE: 'gpu={{  gpu  }} on {{ image }}' },
      volumes: [{ name: 'data', path: '/data/{{ cpus }}' }],
      network: 'host',
      replicas: 1,
    };
    expect(interpolate(spec, values)).toEqual({
      image: 'ubuntu:24.04',
      cpus: '2',
      env: { PORTS: '3000,8080', LINE: 'gpu=false on ubuntu:24.04' },
      volumes: [{ name: 'data', path: '/data/2' }],
      network: 'host',
      replicas: 1,
    });
    expect(spec.image).toBe('{{ image }}');
  });

  test('leaves keys and text without placeholders alone', () => {
    expect(interpolate({ '{{ image }}': 'a { b } {c}' }, values)).toEqual({ '{{ image }}': 'a { b } {c}' });
  });

  test('unknown names fail, naming every one', () => {
    const run = () => interpolate({ a: '{{ imgae }}', b: ['{{ cpu }}', '{{ imgae }}'] }, values);
    expect(run).toThrow(WarrenError);
    expect(run).toThrow('The template refers to parameters that do not exist: "imgae", "cpu".');
  });
});
