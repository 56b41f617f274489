import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MAX_OPERATION_RESULT_BYTES } from '@warren/core';
import { describe, expect, it } from 'vitest';
import { runAgentOperation } from '../../src/operations';
import { failure, tempWorkspace } from './tempWorkspace';

const numbered = (count: number) => Array.from({ length: count }, (_, i) => `line ${i + 1}`).join('\n');

/** Files in `dir` a failed or finished write might have left behind. */
const leftovers = (dir: string) => fs.readdirSync(dir).filter((name) => name.includes('.warren-'));

describe('readFile', () => {
  it('reads a range of lines and says where to continue', async () => {
    const root = tempWorkspace({ 'a.txt': `${numbered(10)}\n` });
    const result = await runAgentOperation('readFile', { path: 'a.txt', offset: 4, limit: 3 }, { root });
    expect(result).toEqual({
      path: path.join(root, 'a.txt'),
      content: 'line 4\nline 5\nline 6',
      totalLines: 10,
      startLine: 4,
      endLine: 6,
      truncated: true,
      longLinesCut: 0,
    });
    const rest = await runAgentOperation('readFile', { path: 'a.txt', offset: 7 }, { root });
    expect(rest).toMatchObject({ content: 'line 7\nline 8\nline 9\nline 10', endLine: 10, truncated: false });
  });

  it('cuts lines over 2,000 characters with a marker', async () => {
    const root = tempWorkspace({ 'min.js': `${'x'.repeat(5000)}\nshort\n` });
    const result = await runAgentOperation('readFile', { path: 'min.js' }, { root });
    expect(result.content).toBe(`${'x'.repeat(2000)} … [3000 more characters cut]\nshort`);
    expect(result.longLinesCut).toBe(1);
  });

  it('stops at the frame limit rather than send a result too large to deliver', async () => {
    const root = tempWorkspace({ 'wide.txt': `${'"'.repeat(1999)}\n`.repeat(1000) });
    const result = await runAgentOperation('readFile', { path: 'wide.txt' }, { root });
    expect(result.truncated).toBe(true);
    expect(result.endLine).toBeLessThan(1000);
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(MAX_OPERATION_RESULT_BYTES);
  });

  it('refuses binary files, huge files, directories and lines past the end with clear errors', async () => {
    const root = tempWorkspace({ 'small.txt': 'one\ntwo\n' });
    fs.writeFileSync(path.join(root, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d]));
    fs.writeFileSync(path.join(root, 'big.log'), Buffer.alloc(10 * 1024 * 1024 + 1, 'a'));
    const binary = await failure(runAgentOperation('readFile', { path: 'image.png' }, { root }));
    expect(binary.message).toMatch(/image\.png looks like a binary file/);
    const big = await failure(runAgentOperation('readFile', { path: 'big.log' }, { root }));
    expect(big).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(big.message).toMatch(/big\.log is 10\.0 MiB, over the 10\.0 MiB limit/);
    const dir = await failure(runAgentOperation('readFile', { path: '.' }, { root }));
    expect(dir.message).toMatch(/is a directory, not a file; use listDir/);
    const past = await failure(runAgentOperation('readFile', { path: 'small.txt', offset: 5 }, { root }));
    expect(past.message).toBe(`Line 5 is past the end of ${root}/small.txt, which has 2 lines.`);
    const missing = await failure(runAgentOperation('readFile', { path: 'nope.txt' }, { root }));
    expect(missing).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('writeFile', () => {
  it('creates a file, and with createDirs its missing directories', async () => {
    const root = tempWorkspace();
    const result = await runAgentOperation(
      'writeFile',
      { path: 'src/deep/new.ts', content: 'export const a = "é";\n', createDirs: true },
      { root },
    );
    expect(result).toEqual({ path: path.join(root, 'src/deep/new.ts'), bytes: 23, created: true });
    expect(fs.readFileSync(path.join(root, 'src/deep/new.ts'), 'utf8')).toBe('export const a = "é";\n');
    const error = await failure(
      runAgentOperation('writeFile', { path: 'other/x.ts', content: '' }, { root }),
    );
    expect(error.message).toBe(
      `Could not write ${root}/other/x.ts: the directory ${root}/other does not exist (set createDirs to create it).`,
    );
  });

  it('replaces a file atomically, keeping its mode and leaving no temp file', async () => {
    const root = tempWorkspace({ 'run.sh': 'echo old\n' });
    const file = path.join(root, 'run.sh');
    fs.chmodSync(file, 0o751);
    const result = await runAgentOperation('writeFile', { path: 'run.sh', content: 'echo new\n' }, { root });
    expect(result).toMatchObject({ created: false, bytes: 9 });
    expect(fs.statSync(file).mode & 0o7777).toBe(0o751);
    expect(fs.readFileSync(file, 'utf8')).toBe('echo new\n');
    expect(leftovers(root)).toEqual([]);
  });

  it('writes through a symlink and keeps the link', async () => {
    const root = tempWorkspace({ 'real/config.json': '{}' });
    fs.symlinkSync('real/config.json', path.join(root, 'config.json'));
    const result = await runAgentOperation(
      'writeFile',
      { path: 'config.json', content: '{"a":1}' },
      { root },
    );
    expect(result.path).toBe(path.join(root, 'real/config.json'));
    expect(fs.lstatSync(path.join(root, 'config.json')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(root, 'real/config.json'), 'utf8')).toBe('{"a":1}');
  });

  it('leaves the old content and no temp file behind when the replace fails', async (context) => {
    const root = tempWorkspace({ 'locked.txt': 'original\n' });
    const file = path.join(root, 'locked.txt');
    // An immutable file cannot be replaced by rename, even by root: the write fails after the
    // temp file was written, which is the case that must clean up.
    try {
      execFileSync('chattr', ['+i', file], { stdio: 'ignore' });
    } catch {
      context.skip('chattr +i is not available here');
    }
    try {
      const error = await failure(
        runAgentOperation('writeFile', { path: 'locked.txt', content: 'new\n' }, { root }),
      );
      expect(error).toMatchObject({
        code: 'FORBIDDEN',
        message: `Could not write ${file}: permission denied.`,
      });
      expect(fs.readFileSync(file, 'utf8')).toBe('original\n');
      expect(leftovers(root)).toEqual([]);
    } finally {
      execFileSync('chattr', ['-i', file]);
    }
  });
});

describe('editFile', () => {
  const source = ['function a() {', '  return 1;', '}', 'function b() {', '  return 1;', '}', ''].join('\n');

  it('replaces a unique piece of text and keeps the mode', async () => {
    const root = tempWorkspace({ 'a.js': source });
    fs.chmodSync(path.join(root, 'a.js'), 0o640);
    const result = await runAgentOperation(
      'editFile',
      { path: 'a.js', oldText: 'function b() {\n  return 1;', newText: 'function b() {\n  return 2;' },
      { root },
    );
    expect(result).toEqual({ path: path.join(root, 'a.js'), replacements: 1 });
    expect(fs.readFileSync(path.join(root, 'a.js'), 'utf8')).toBe(source.replace(/1;\n}\n$/, '2;\n}\n'));
    expect(fs.statSync(path.join(root, 'a.js')).mode & 0o777).toBe(0o640);
    expect(leftovers(root)).toEqual([]);
  });

  it('names the lines when oldText matches several places, and replaces all when asked', async () => {
    const root = tempWorkspace({ 'a.js': source });
    const error = await failure(
      runAgentOperation('editFile', { path: 'a.js', oldText: 'return 1;', newText: 'return 0;' }, { root }),
    );
    expect(error.message).toBe(
      `oldText matches 2 places in ${root}/a.js (lines 2, 5); add surrounding lines to make it unique or set replaceAll.`,
    );
    expect(fs.readFileSync(path.join(root, 'a.js'), 'utf8')).toBe(source);
    const result = await runAgentOperation(
      'editFile',
      { path: 'a.js', oldText: 'return 1;', newText: 'return $&0;', replaceAll: true },
      { root },
    );
    expect(result.replacements).toBe(2);
    // Replacement text is literal: "$&" is not a regex back-reference.
    expect(fs.readFileSync(path.join(root, 'a.js'), 'utf8')).toBe(
      source.split('return 1;').join('return $&0;'),
    );
  });

  it('tells the model to read the file again when oldText is not there', async () => {
    const root = tempWorkspace({ 'a.js': source, 'win.txt': 'one\r\ntwo\r\n' });
    const error = await failure(
      runAgentOperation('editFile', { path: 'a.js', oldText: 'return 3;', newText: 'x' }, { root }),
    );
    expect(error).toMatchObject({ code: 'CONFLICT' });
    expect(error.message).toBe(
      `oldText was not found in ${root}/a.js; read the file again and copy the text exactly, including whitespace and indentation.`,
    );
    const crlf = await failure(
      runAgentOperation('editFile', { path: 'win.txt', oldText: 'one\ntwo', newText: 'x' }, { root }),
    );
    expect(crlf.message).toMatch(/CRLF/);
  });

  it('refuses an edit that changes nothing', async () => {
    const root = tempWorkspace({ 'a.js': source });
    const error = await failure(
      runAgentOperation('editFile', { path: 'a.js', oldText: '}', newText: '}' }, { root }),
    );
    expect(error).toMatchObject({ code: 'INVALID_INPUT' });
    expect(error.message).toMatch(/oldText and newText are the same/);
  });
});
