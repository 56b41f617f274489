import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerServerCommand } from '../../src/cli/serverCommand';
import { resolveServerConfig } from '../../src/config/ServerConfig';

describe('the hidden direct-provider deployment option', () => {
  it('is read from the flag and from WARREN_CHAT_DIRECT_PROVIDER, and is off by default', () => {
    const base = { 'data-dir': '/tmp/warren-config-test' };
    expect(resolveServerConfig(base, {}).chatDirectProvider).toBe(false);
    expect(resolveServerConfig(base, { WARREN_CHAT_DIRECT_PROVIDER: 'true' }).chatDirectProvider).toBe(true);
    expect(resolveServerConfig({ ...base, 'chat-direct-provider': '1' }, {}).chatDirectProvider).toBe(true);
    expect(() => resolveServerConfig(base, { WARREN_CHAT_DIRECT_PROVIDER: 'yes' })).toThrow(
      /chat-direct-provider must be true or false\./,
    );
  });

  it('is not shown in `warren server --help`, though the server accepts it', () => {
    const program = new Command();
    registerServerCommand(program);
    const server = program.commands.find((c) => c.name() === 'server');
    const help = server?.helpInformation() ?? '';
    expect(help).toContain('--postgres-url');
    expect(help).not.toContain('chat-direct-provider');
    expect(server?.options.some((o) => o.long === '--chat-direct-provider')).toBe(true);
  });
});
