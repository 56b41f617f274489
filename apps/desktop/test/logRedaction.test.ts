import { PassThrough } from 'node:stream';
import { Secret } from '@warren/core';
import { describe, expect, it } from 'vitest';
import { DesktopLog } from '../src/main/log/desktopLog';

describe('the desktop log', () => {
  it('writes no token: not in secret-named fields, Secrets, bearer headers or echoed messages', () => {
    const out = new PassThrough();
    const log = new DesktopLog(out, 'debug');
    const token = 'wrn_0123456789abcdef_topsecret';
    log.hide(token);
    log.info('signed in', { url: 'https://x.example', token, auth: new Secret(token) });
    log.warn(`upstream said: invalid token ${token}`);
    log.error('request failed', {
      header: `Bearer ${'another-secret-value'}`,
      url: 'https://x/?token=abc123',
    });
    const text = String(out.read());
    expect(text).not.toContain(token);
    expect(text).not.toContain('another-secret-value');
    expect(text).not.toContain('abc123');
    expect(text).toContain('https://x.example');
    expect(text.trim().split('\n')).toHaveLength(3);
  });
});
