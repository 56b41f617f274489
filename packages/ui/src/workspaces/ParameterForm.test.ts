import type { TemplateParameter } from '@warren/core';
import { expect, test } from 'vitest';
import { checkParameterInputs, initialParameterInputs } from './ParameterForm';

const params: TemplateParameter[] = [
  {
    name: 'cpus',
    displayName: 'CPU cores',
    type: 'number',
    mutable: true,
    default: 2,
    validation: { min: 1, max: 16 },
  },
  {
    name: 'repo',
    type: 'string',
    mutable: true,
    default: '',
    validation: { regex: '^$|^https://', error: 'Give an https:// URL.' },
  },
  { name: 'packages', type: 'list', mutable: true },
  { name: 'gpu', type: 'bool', mutable: false, default: false },
];

test('the form starts from the defaults and sends typed values', () => {
  const inputs = initialParameterInputs(params);
  expect(inputs).toEqual({ cpus: '2', repo: '', packages: '', gpu: false });
  const { values, errors } = checkParameterInputs(params, { ...inputs, packages: 'git, curl', gpu: true });
  expect(errors).toEqual({});
  expect(values).toEqual({ cpus: 2, repo: '', packages: ['git', 'curl'], gpu: true });
});

test('each field gets the sentence the daemon would answer with', () => {
  const { errors } = checkParameterInputs(params, { cpus: '32', repo: 'ftp://x', packages: '', gpu: false });
  expect(errors.cpus).toBe('Parameter cpus must be at most 16, not 32.');
  expect(errors.repo).toBe('Parameter repo is not valid: Give an https:// URL.');
  expect(errors.packages).toBe('packages is required; give a value.');
});
