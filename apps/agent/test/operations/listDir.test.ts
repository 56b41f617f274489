import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAgentOperation } from '../../src/operations';
import { searchWorkspace } from './searchWorkspace';
import { failure } from './tempWorkspace';

describe('listDir', () => {
  it('lists entries by name with their type, size and time', async () => {
    const root = searchWorkspace();
    fs.symlinkSync('src/index.ts', path.join(root, 'link.ts'));
    const result = await runAgentOperation('listDir', { path: '.' }, { root });
    expect(result.path).toBe(root);
    expect(result.entries.map((e) => [e.name, e.type])).toEqual([
      ['.git', 'dir'],
      ['README.md', 'file'],
      ['link.ts', 'symlink'],
      ['logo.png', 'file'],
      ['min.js', 'file'],
      ['node_modules', 'dir'],
      ['src', 'dir'],
    ]);
    expect(result.entries.find((e) => e.name === 'README.md')?.size).toBe(23);
    const limited = await runAgentOperation('listDir', { path: '.', limit: 2 }, { root });
    expect(limited).toMatchObject({ totalEntries: 7, truncated: true });
    expect(limited.entries).toHaveLength(2);
  });

  it('refuses a file', async () => {
    const root = searchWorkspace();
    const error = await failure(runAgentOperation('listDir', { path: 'README.md' }, { root }));
    expect(error.message).toBe(`${root}/README.md is a file, not a directory; use readFile to read it.`);
  });
});
