import { WarrenError } from '@warren/core';
import { STREAMING_GLIBC_TUNABLES, STREAMING_MALLOC_MARKER, streamingMallocEnv } from '@warren/core/node';
import { describe, expect, it } from 'vitest';
import { connectUrl, readAgentConfig } from '../src/AgentConfig';
import { AgentLog } from '../src/AgentLog';

describe('agent settings', () => {
  it('dials the agent socket on the WebSocket scheme matching the daemon URL, keeping a base path', () => {
    expect(connectUrl('http://127.0.0.1:3000').href).toBe('ws://127.0.0.1:3000/api/v2/agents/connect');
    expect(connectUrl('https://warren.example.com/').href).toBe(
      'wss://warren.example.com/api/v2/agents/connect',
    );
    expect(connectUrl('https://example.com/warren?x=1').href).toBe(
      'wss://example.com/warren/api/v2/agents/connect',
    );
    expect(() => connectUrl('ftp://example.com')).toThrow(WarrenError);
    expect(() => connectUrl('not a url')).toThrow(/not a URL/);
  });

  it('takes the token out of the environment so child processes never inherit it', () => {
    const env: NodeJS.ProcessEnv = {
      WARREN_AGENT_URL: 'http://d',
      WARREN_AGENT_TOKEN: 'wat_secret-value-123',
      HOME: '/home/me',
    };
    const config = readAgentConfig(env);
    expect(config.token.reveal()).toBe('wat_secret-value-123');
    expect(env.WARREN_AGENT_TOKEN).toBeUndefined();
    expect(config.dir).toBeTruthy();
    expect(
      readAgentConfig({ WARREN_AGENT_URL: 'http://d', WARREN_AGENT_TOKEN: 't', WARREN_AGENT_DIR: '/srv/x' })
        .dir,
    ).toBe('/srv/x');
  });

  it("drops the malloc tunables Warren set for the agent alone, and keeps a user's own", () => {
    const base = { WARREN_AGENT_URL: 'http://d', WARREN_AGENT_TOKEN: 't' };
    const ours: NodeJS.ProcessEnv = { ...base, ...streamingMallocEnv(base) };
    expect(ours.GLIBC_TUNABLES).toBe(STREAMING_GLIBC_TUNABLES);
    readAgentConfig(ours);
    expect(ours.GLIBC_TUNABLES).toBeUndefined();
    expect(ours[STREAMING_MALLOC_MARKER]).toBeUndefined();

    const users: NodeJS.ProcessEnv = { ...base, GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' };
    expect(streamingMallocEnv(users)).toEqual({});
    readAgentConfig(users);
    expect(users.GLIBC_TUNABLES).toBe('glibc.malloc.arena_max=2');
  });

  it('names the missing setting', () => {
    expect(() => readAgentConfig({ WARREN_AGENT_TOKEN: 't' })).toThrow(/WARREN_AGENT_URL/);
    expect(() => readAgentConfig({ WARREN_AGENT_URL: 'http://d' })).toThrow(/WARREN_AGENT_TOKEN/);
  });

  it('redacts the token from every log line', () => {
    const lines: string[] = [];
    const config = readAgentConfig({
      WARREN_AGENT_URL: 'http://d',
      WARREN_AGENT_TOKEN: 'wat_abcdefghijklmnop',
    });
    const log = new AgentLog([config.token], (line) => lines.push(line));
    log.error('handshake failed: Authorization: Bearer wat_abcdefghijklmnop', {
      header: 'wat_abcdefghijklmnop',
    });
    expect(lines.join('')).not.toContain('wat_abcdefghijklmnop');
    expect(lines.join('')).toContain('[redacted]');
  });
});
