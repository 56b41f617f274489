import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrCreateDeviceKey, sshPublicKeyOf, writeFileAtomically } from '@warren/core/node';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK_END, BLOCK_START, replaceBlock } from '../../src/cli/configSshCommand';

const daemonDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const block = `${BLOCK_START}\nHost warren.dev\n  User ann\n${BLOCK_END}\n`;
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-ssh-files-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('config-ssh', () => {
  it('replaces the Warren block in place and keeps the rest byte for byte', () => {
    const existing = `Host a\n  User x\n\n${BLOCK_START}\nHost warren.old\n${BLOCK_END}\nHost b\n`;
    expect(replaceBlock(existing, block)).toBe(`Host a\n  User x\n\n${block}Host b\n`);
  });

  it('a stray end marker above the block does not add a second block', () => {
    const existing = `${BLOCK_END}\nHost a\n${BLOCK_START}\nHost warren.old\n${BLOCK_END}\n`;
    const updated = replaceBlock(existing, block);
    expect(updated).toBe(`${BLOCK_END}\nHost a\n${block}`);
    expect(replaceBlock(updated, block)).toBe(updated);
  });

  it('an end marker alone is kept and one block is appended, once', () => {
    const once = replaceBlock(`${BLOCK_END}\nHost a\n`, block);
    expect(once.split(BLOCK_START)).toHaveLength(2);
    expect(replaceBlock(once, block)).toBe(once);
  });

  it('writing through a symlinked config keeps the link and the file mode', () => {
    const dotfiles = path.join(dir, 'dotfiles');
    const sshDir = path.join(dir, 'home', '.ssh');
    fs.mkdirSync(dotfiles, { recursive: true });
    fs.mkdirSync(sshDir, { recursive: true });
    const real = path.join(dotfiles, 'ssh_config');
    fs.writeFileSync(real, 'Host a\n');
    fs.chmodSync(real, 0o640);
    const link = path.join(sshDir, 'config');
    fs.symlinkSync(path.relative(sshDir, real), link);

    writeFileAtomically(link, replaceBlock(fs.readFileSync(link, 'utf8'), block));

    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(real, 'utf8')).toBe(`Host a\n\n${block}`);
    expect(fs.statSync(real).mode & 0o777).toBe(0o640);
    expect(fs.readdirSync(sshDir)).toEqual(['config']);
    expect(fs.readdirSync(dotfiles)).toEqual(['ssh_config']);
  });

  it('a new config is private to its owner', () => {
    const file = path.join(dir, 'new_config');
    writeFileAtomically(file, block);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe('device key', () => {
  it('a lost public key is derived again from the private key, never a new pair', () => {
    const identity = path.join(dir, 'lost-pub', 'id_ed25519');
    const first = loadOrCreateDeviceKey(identity);
    fs.rmSync(`${identity}.pub`);
    const again = loadOrCreateDeviceKey(identity);
    expect(again).toEqual(first);
    expect(fs.readFileSync(`${identity}.pub`, 'utf8')).toBe(`${first.publicKey} warren\n`);
  });

  it('a stale public key file is corrected to match the private key', () => {
    const identity = path.join(dir, 'stale-pub', 'id_ed25519');
    const first = loadOrCreateDeviceKey(identity);
    const other = loadOrCreateDeviceKey(path.join(dir, 'other', 'id_ed25519'));
    fs.writeFileSync(`${identity}.pub`, `${other.publicKey} warren\n`);
    expect(loadOrCreateDeviceKey(identity).publicKey).toBe(first.publicKey);
    expect(fs.readFileSync(`${identity}.pub`, 'utf8')).toBe(`${first.publicKey} warren\n`);
  });

  it('processes creating the key at the same moment all end up with one key', async () => {
    // The race is between processes (the CLI and the desktop starting together), so run real ones.
    const script = await bundleKeyScript();
    const identity = path.join(dir, 'race', 'id_ed25519');
    const runs = await Promise.all(Array.from({ length: 4 }, () => runNode(script, identity)));
    const keys = new Set(runs.map((out) => out.trim()));
    expect(keys.size).toBe(1);
    const onDisk = fs.readFileSync(identity, 'utf8');
    expect(sshPublicKeyOf(onDisk)).toBe([...keys][0]);
    expect(fs.readFileSync(`${identity}.pub`, 'utf8')).toBe(`${[...keys][0]} warren\n`);
    expect(fs.readdirSync(path.dirname(identity)).sort()).toEqual(['id_ed25519', 'id_ed25519.pub']);
  });
});

/** A small program that creates (or loads) the device key given as argv[2] and prints its public key. */
async function bundleKeyScript(): Promise<string> {
  // Inside the daemon's folder, so the bundle's bare imports (ssh2) resolve from its node_modules.
  const outDir = fs.mkdtempSync(path.join(daemonDir, 'node_modules', '.device-key-race-'));
  afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));
  const outfile = path.join(outDir, 'key.mjs');
  await build({
    stdin: {
      contents:
        "import { loadOrCreateDeviceKey } from '@warren/core/node';\n" +
        'process.stdout.write(loadOrCreateDeviceKey(process.argv[2]).publicKey);\n',
      resolveDir: daemonDir,
      loader: 'ts',
    },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
    plugins: [
      {
        name: 'external-dependencies',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) =>
            args.path.startsWith('@warren/') ? undefined : { path: args.path, external: true },
          );
        },
      },
    ],
  });
  return outfile;
}

function runNode(script: string, arg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, arg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`key script exited ${code}: ${err}`)),
    );
  });
}
