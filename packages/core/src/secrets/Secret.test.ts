import util from 'node:util';
import { describe, expect, it } from 'vitest';
import { redact } from './redact';
import { REDACTED, Secret } from './Secret';

const VALUE = 'hunter2-correct-horse';

describe('Secret', () => {
  const secret = new Secret(VALUE);

  it('shows [redacted] wherever it is turned into text', () => {
    expect(String(secret)).toBe(REDACTED);
    expect(`${secret}`).toBe(REDACTED);
    expect(`token: ${secret}`).toBe(`token: ${REDACTED}`);
    // biome-ignore lint/style/useTemplate: concatenation is one of the ways a secret becomes text
    expect('' + secret).toBe(REDACTED);
    expect(secret.toString()).toBe(REDACTED);
  });

  it('shows [redacted] in JSON, alone or inside other values', () => {
    expect(JSON.stringify(secret)).toBe(`"${REDACTED}"`);
    expect(JSON.stringify({ login: 'ada', password: secret, nested: [secret] })).not.toContain(VALUE);
  });

  it('shows [redacted] when inspected, as console.log and loggers do', () => {
    expect(util.inspect(secret)).toBe(REDACTED);
    expect(util.inspect({ deep: { deeper: { secret } } }, { depth: 10 })).not.toContain(VALUE);
    expect(util.format('%s %o %j', secret, secret, secret)).not.toContain(VALUE);
  });

  it('gives the value only through reveal()', () => {
    expect(secret.reveal()).toBe(VALUE);
    expect(Object.keys(secret)).toEqual([]);
    expect(Object.values(secret)).not.toContain(VALUE);
  });
});

describe('redact', () => {
  it('replaces secret-named fields and Secret values, and keeps everything else', () => {
    const input = {
      username: 'ada',
      password: 'pw-1',
      newPassword: 'pw-2',
      apiKey: 'key-1',
      api_key: 'key-2',
      token: 'tok-1',
      headers: { authorization: 'Bearer tok-2', cookie: 'warren_session=tok-3', accept: 'json' },
      note: new Secret('pw-3'),
      list: [{ clientSecret: 'sec-1', name: 'ci' }],
      count: 3,
      missing: null,
    };
    expect(redact(input)).toEqual({
      username: 'ada',
      password: REDACTED,
      newPassword: REDACTED,
      apiKey: REDACTED,
      api_key: REDACTED,
      token: REDACTED,
      headers: { authorization: REDACTED, cookie: REDACTED, accept: 'json' },
      note: REDACTED,
      list: [{ clientSecret: REDACTED, name: 'ci' }],
      count: 3,
      missing: null,
    });
  });

  it('does not change the value it was given', () => {
    const input = { password: 'pw', inner: { token: 'tok' } };
    redact(input);
    expect(input).toEqual({ password: 'pw', inner: { token: 'tok' } });
  });

  it('hides a secret field however deeply it is nested', () => {
    let deep: unknown = { password: 'buried-pw' };
    for (let i = 0; i < 12; i++) deep = { level: deep };
    expect(JSON.stringify(redact(deep))).not.toContain('buried-pw');
  });
});
