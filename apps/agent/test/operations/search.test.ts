import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAgentOperation } from '../../src/operations';
import { expandBraces, GlobPattern } from '../../src/operations/GlobPattern';
import { searchWorkspace } from './searchWorkspace';
import { failure, tempWorkspace } from './tempWorkspace';

const matches = (pattern: string, file: string) => GlobPattern.compile(pattern).matches(file.split('/'));

describe('GlobPattern', () => {
  it.each([
    ['**/*.ts', 'a.ts', true],
    ['**/*.ts', 'src/deep/a.ts', true],
    ['**/*.ts', 'src/a.tsx', false],
    ['src/*.ts', 'src/deep/a.ts', false],
    ['src/**', 'src/deep/a.ts', true],
    ['src/**/test/*.ts', 'src/test/a.ts', true],
    ['?.md', 'a.md', true],
    ['?.md', 'ab.md', false],
    ['[ab].txt', 'b.txt', true],
    ['[!ab].txt', 'b.txt', false],
    ['[a-c]x', 'cx', true],
    ['*.{js,ts}', 'x.ts', true],
    ['{src,lib}/**/*.{j,t}s', 'lib/x/y.js', true],
    ['\\*.txt', '*.txt', true],
    ['\\*.txt', 'a.txt', false],
    ['*', '.env', false],
    ['**/*.yml', '.github/workflows/ci.yml', false],
    ['.github/**/*.yml', '.github/workflows/ci.yml', true],
    ['**/.env', 'app/.env', true],
    ['a+b(c).txt', 'a+b(c).txt', true],
  ])('%s against %s is %s', (pattern, file, expected) => {
    expect(matches(pattern, file)).toBe(expected);
  });

  it('prunes directories that cannot hold a match', () => {
    const pattern = GlobPattern.compile('src/*/index.ts');
    expect(pattern.mayContain(['src'])).toBe(true);
    expect(pattern.mayContain(['src', 'ui'])).toBe(true);
    expect(pattern.mayContain(['src', 'ui', 'deep'])).toBe(false);
    expect(pattern.mayContain(['test'])).toBe(false);
  });

  it('answers quickly for patterns that would make a backtracking matcher crawl', () => {
    const started = Date.now();
    expect(matches('*a*a*a*a*a*a*a*a*b', 'a'.repeat(250))).toBe(false);
    expect(matches('**/a/**/a/**/a/**/a/**/b', Array(60).fill('a').join('/'))).toBe(false);
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('expands nested braces and refuses runaway ones', () => {
    expect(expandBraces('a{b,c{d,e}}f')).toEqual(['abf', 'acdf', 'acef']);
    expect(expandBraces('{single}')).toEqual(['{single}']);
    expect(() => expandBraces('{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}')).toThrow(
      /more than 256 patterns/,
    );
  });
});

describe('glob', () => {
  it('finds files, newest first, and skips node_modules unless the pattern names it', async () => {
    const root = searchWorkspace();
    expect(await runAgentOperation('glob', { pattern: '**/*.ts' }, { root })).toEqual({
      cwd: root,
      paths: ['src/util/strings.test.ts', 'src/util/strings.ts', 'src/index.ts'],
      truncated: false,
    });
    const named = await runAgentOperation('glob', { pattern: 'node_modules/**/*.ts' }, { root });
    expect(named.paths).toEqual(['node_modules/lib/index.ts']);
  });

  it('takes a cwd, braces, a limit and absolute patterns', async () => {
    const root = searchWorkspace();
    const inUtil = await runAgentOperation('glob', { pattern: '*.ts', cwd: 'src/util' }, { root });
    expect(inUtil).toEqual({
      cwd: path.join(root, 'src/util'),
      paths: ['strings.test.ts', 'strings.ts'],
      truncated: false,
    });
    const braces = await runAgentOperation('glob', { pattern: '{README.md,src/*.ts}' }, { root });
    expect(braces.paths.sort()).toEqual(['README.md', 'src/index.ts']);
    const limited = await runAgentOperation('glob', { pattern: '**/*.ts', limit: 1 }, { root });
    expect(limited).toMatchObject({ paths: ['src/util/strings.test.ts'], truncated: true });
    const absolute = await runAgentOperation('glob', { pattern: `${root}/src/*.ts` }, { root: '/' });
    expect(absolute.paths).toEqual([path.join(root, 'src/index.ts')]);
  });

  it('says so when the directory to search does not exist', async () => {
    const root = searchWorkspace();
    const error = await failure(runAgentOperation('glob', { pattern: '*', cwd: 'nope' }, { root }));
    expect(error).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('grep', () => {
  it('finds lines in text files, skipping binaries, .git and node_modules', async () => {
    const root = searchWorkspace();
    const result = await runAgentOperation('grep', { pattern: 'TODO' }, { root });
    expect(result.matches.map((m) => `${m.path}:${m.line}`)).toEqual([
      'README.md:2',
      'min.js:1',
      'src/util/strings.ts:2',
    ]);
    expect(result.truncated).toBe(false);
    // README.md, min.js and the three .ts files; not logo.png, .git or node_modules.
    expect(result.filesSearched).toBe(5);
  });

  it('cuts a long matched line to 500 characters around the match', async () => {
    const root = searchWorkspace();
    const result = await runAgentOperation('grep', { pattern: 'TODO', path: 'min.js' }, { root });
    const text = result.matches[0]?.text ?? '';
    expect(text.length).toBeLessThanOrEqual(502);
    expect(text).toContain('TODO');
    expect(text.startsWith('…')).toBe(true);
  });

  it('filters by glob, ignores case when asked and stops at maxMatches', async () => {
    const root = searchWorkspace();
    const tests = await runAgentOperation(
      'grep',
      { pattern: 'todo', glob: '*.test.ts', caseInsensitive: true },
      { root },
    );
    expect(tests.matches).toEqual([
      { path: 'src/util/strings.test.ts', line: 2, text: '// todo: more cases' },
    ]);
    const first = await runAgentOperation('grep', { pattern: 'TODO', maxMatches: 1 }, { root });
    expect(first).toMatchObject({ matches: [{ path: 'README.md', line: 2 }], truncated: true });
  });

  it('stops a pattern that backtracks without end instead of freezing the agent', async () => {
    const root = tempWorkspace({ 'evil.txt': `${'a'.repeat(40)}!\n` });
    const started = Date.now();
    const error = await failure(runAgentOperation('grep', { pattern: '^(a+)+$' }, { root }));
    expect(error).toMatchObject({ code: 'INVALID_INPUT' });
    expect(error.message).toMatch(/ran for over 1 s on evil\.txt; it probably backtracks/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('explains an invalid regular expression', async () => {
    const root = searchWorkspace();
    const error = await failure(runAgentOperation('grep', { pattern: 'a(b' }, { root }));
    expect(error).toMatchObject({ code: 'INVALID_INPUT' });
    expect(error.message).toMatch(/^The grep pattern is not a valid JavaScript regular expression: /);
  });
});
