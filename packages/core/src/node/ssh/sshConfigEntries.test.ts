import { describe, expect, it } from 'vitest';
import { sshHostAlias, sshHostEntryLines, withIncludeLine } from './sshConfigEntries';

describe('SSH config entries', () => {
  it('alias your own workspaces by name and others by owner and name', () => {
    expect(sshHostAlias({ owner: 'ann', name: 'dev' }, 'ann')).toBe('warren.dev');
    expect(sshHostAlias({ owner: 'bob', name: 'dev' }, 'ann')).toBe('warren.bob--dev');
  });

  it('quote paths with spaces and keep strict host key checking on', () => {
    const lines = sshHostEntryLines({
      alias: 'warren.dev',
      user: 'ann',
      proxyCommand: 'warren ssh --stdio dev',
      identityFile: '/Users/Ann Smith/key',
      knownHostsFile: '/tmp/known "hosts"',
    });
    expect(lines).toContain('  IdentityFile "/Users/Ann Smith/key"');
    expect(lines).toContain('  UserKnownHostsFile "/tmp/known \\"hosts\\""');
    expect(lines).toContain('  StrictHostKeyChecking yes');
  });

  it('put the Include line first, once, and leave the rest of the config as it was', () => {
    const config = 'Host example\n  HostName example.com\n';
    const once = withIncludeLine(config, '/home/ann/.ssh/warren-desktop.config');
    expect(once).toBe(`Include "/home/ann/.ssh/warren-desktop.config"\n\n${config}`);
    expect(withIncludeLine(once, '/home/ann/.ssh/warren-desktop.config')).toBe(once);
    expect(withIncludeLine('', '/x')).toBe('Include "/x"\n');
  });
});
