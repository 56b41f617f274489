import { execFile } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { ephemeralKeyPair } from '@warren/core/node';
import ssh2, { type Connection } from 'ssh2';
import { type SftpLog, serveSftp } from '../../src/ssh/sftpServer';

const run = promisify(execFile);

export interface SftpTestServer {
  port: number;
  /** The client's private key, OpenSSH format, mode 0600, for `ssh -i`. */
  keyFile: string;
  clientKey: string;
  /** One promise per SFTP session, settled when serveSftp has closed everything that session opened. */
  sessions: Promise<void>[];
  logLines: string[];
  close(): Promise<void>;
}

/**
 * A bare ssh2 server on 127.0.0.1 that accepts one generated ed25519 client key and wires only the
 * sftp subsystem to serveSftp: the part of the agent's SSH server these tests are about.
 */
export async function startSftpTestServer(root: string, keyDir: string): Promise<SftpTestServer> {
  const hostKey = ephemeralKeyPair();
  const clientKey = ephemeralKeyPair();
  const keyFile = path.join(keyDir, 'id_ed25519');
  fs.writeFileSync(keyFile, clientKey.privateKey, { mode: 0o600 });
  const allowed = ssh2.utils.parseKey(clientKey.publicKey);
  if (allowed instanceof Error) throw allowed;

  const sessions: Promise<void>[] = [];
  const logLines: string[] = [];
  const log: SftpLog = {
    debug: (m, f) => logLines.push(`debug ${m} ${JSON.stringify(f ?? {})}`),
    warn: (m, f) => logLines.push(`warn ${m} ${JSON.stringify(f ?? {})}`),
  };
  const connections = new Set<Connection>();

  const server = new ssh2.Server({ hostKeys: [hostKey.privateKey] }, (client) => {
    connections.add(client);
    client.on('close', () => connections.delete(client));
    client.on('error', () => {});
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
      const wanted = allowed.getPublicSSH();
      const keyMatches =
        ctx.key.algo === allowed.type &&
        ctx.key.data.length === wanted.length &&
        timingSafeEqual(ctx.key.data, wanted);
      const signed =
        !ctx.signature || (ctx.blob && allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true);
      return keyMatches && signed ? ctx.accept() : ctx.reject(['publickey']);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('sftp', (acceptSftp) => {
          sessions.push(serveSftp(acceptSftp(), { root, log }));
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    port,
    keyFile,
    clientKey: clientKey.privateKey,
    sessions,
    logLines,
    close: async () => {
      for (const c of connections) c.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Options every OpenSSH client here needs: no config, no known_hosts, only our key, never a prompt. */
export function openSshOptions(server: SftpTestServer): string[] {
  return [
    '-F',
    '/dev/null',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'LogLevel=ERROR',
    '-i',
    server.keyFile,
    '-P',
    String(server.port),
  ];
}

/** Runs OpenSSH's sftp on a batch of commands; `-b` makes it stop at the first command that fails. */
export async function sftpBatch(server: SftpTestServer, commands: string[], extra: string[] = []) {
  const batch = path.join(path.dirname(server.keyFile), `batch-${Date.now()}-${Math.random()}.txt`);
  fs.writeFileSync(batch, `${commands.join('\n')}\n`);
  return run('sftp', [...openSshOptions(server), ...extra, '-b', batch, 'tester@127.0.0.1'], {
    timeout: 60_000,
  });
}

/** Runs OpenSSH's scp, which speaks SFTP since OpenSSH 9; `remote:` in an argument names the test server. */
export async function scp(server: SftpTestServer, args: string[]) {
  const expanded = args.map((a) => a.replace(/^remote:/, 'tester@127.0.0.1:'));
  return run('scp', [...openSshOptions(server), ...expanded], { timeout: 60_000 });
}
