import { Secret } from '@warren/core';
import { describe, expect, it } from 'vitest';
import { DirectorySnapshot, upstreamBase } from './DirectorySnapshot';
import type { DirectoryRows } from './gatewayQueries';

const provider = (
  id: string,
  name: string,
  kind: 'openai' | 'anthropic' | 'openai-compatible',
  baseUrl: string,
) => ({
  id,
  name,
  kind,
  base_url: baseUrl,
  byok: 'allowed' as const,
  enabled: 1,
  created_at: 0,
  updated_at: 0,
});
const model = (id: string, providerId: string, name: string) => ({
  id,
  provider_id: providerId,
  name,
  display_name: null,
  enabled: 1,
  input_price: 1,
  output_price: 2,
  cache_read_price: 0,
  cache_write_price: 0,
  created_at: 0,
});

function snapshot(roleModels: DirectoryRows['roleModels'] = []): DirectorySnapshot {
  const rows: DirectoryRows = {
    providers: [
      provider('p1', 'alpha', 'openai-compatible', 'http://127.0.0.1:1/v1'),
      provider('p2', 'beta', 'openai', 'https://api.openai.com/v1'),
      provider('p3', 'claude', 'anthropic', 'https://api.anthropic.com'),
    ],
    keys: [{ id: 'k1', provider_id: 'p2', key_encrypted: 'enc' }],
    models: [
      model('m1', 'p2', 'gpt-4.1'),
      model('m2', 'p1', 'gpt-4.1'),
      model('m3', 'p3', 'claude-sonnet-4-5'),
    ],
    userKeys: [],
    roleModels,
    limits: [],
  };
  return new DirectorySnapshot(rows, () => new Secret('sk-test'));
}

describe('DirectorySnapshot', () => {
  it('gives a shared model name to the first provider by name, and lets "provider/model" pick another', () => {
    const s = snapshot();
    expect(s.resolve('openai', 'gpt-4.1')?.ref).toBe('alpha/gpt-4.1');
    expect(s.resolve('openai', 'beta/gpt-4.1')?.ref).toBe('beta/gpt-4.1');
    expect(s.resolve('anthropic', 'gpt-4.1')).toBeUndefined();
    expect(s.resolve('openai', 'claude/claude-sonnet-4-5'), 'families stay apart').toBeUndefined();
    const beta = s.resolve('openai', 'beta/gpt-4.1');
    expect(beta && s.publicId(beta)).toBe('beta/gpt-4.1');
  });

  it('allows every model while no role has a list, and only listed ones after', () => {
    expect(
      snapshot()
        .listAllowed('openai', ['member'])
        .map((m) => m.ref),
    ).toEqual(['alpha/gpt-4.1', 'beta/gpt-4.1']);
    const limited = snapshot([{ role: 'template-admin', pattern: 'beta/*' }]);
    expect(limited.listAllowed('openai', ['member'])).toEqual([]);
    expect(limited.listAllowed('openai', ['member', 'template-admin']).map((m) => m.ref)).toEqual([
      'beta/gpt-4.1',
    ]);
  });

  it('finds a provider’s API below a base URL with a path, or at its usual prefix for a bare host', () => {
    expect(upstreamBase('openai', 'https://api.openai.com/v1/')).toEqual({
      origin: 'https://api.openai.com',
      basePath: '/v1',
    });
    expect(upstreamBase('openai-compatible', 'http://localhost:11434')).toEqual({
      origin: 'http://localhost:11434',
      basePath: '/v1',
    });
    expect(upstreamBase('google', 'https://generativelanguage.googleapis.com')).toEqual({
      origin: 'https://generativelanguage.googleapis.com',
      basePath: '/v1beta/openai',
    });
    expect(upstreamBase('anthropic', 'https://api.anthropic.com/v1')).toEqual({
      origin: 'https://api.anthropic.com',
      basePath: '',
    });
  });
});
