import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgentOperation } from '../../src/operations';
import { parseProcNetTcp } from '../../src/operations/ports';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function listen(host: string): Promise<number> {
  const server = net.createServer();
  cleanups.push(() => server.close());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}

describe('listeningPorts', () => {
  it('finds a server started in another process, with its pid and name', async () => {
    const child = spawn(
      process.execPath,
      [
        '-e',
        "require('net').createServer().listen(0, '0.0.0.0', function () { console.log(this.address().port) })",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    cleanups.push(() => child.kill('SIGKILL'));
    const port = await new Promise<number>((resolve) =>
      child.stdout.once('data', (d) => resolve(Number(String(d)))),
    );
    const { ports } = await runAgentOperation('listeningPorts', {}, { root: '/' });
    expect(ports).toContainEqual({
      port,
      protocol: 'tcp',
      address: '0.0.0.0',
      pid: child.pid,
      process: 'node',
    });
  });

  it('finds IPv4 and IPv6 loopback listeners of this process', async () => {
    const v4 = await listen('127.0.0.1');
    const v6 = await listen('::1').catch(() => undefined);
    const { ports } = await runAgentOperation('listeningPorts', {}, { root: '/' });
    expect(ports).toContainEqual(
      expect.objectContaining({ port: v4, protocol: 'tcp', address: '127.0.0.1', pid: process.pid }),
    );
    if (v6 !== undefined)
      expect(ports).toContainEqual(
        expect.objectContaining({ port: v6, protocol: 'tcp6', address: '::1', pid: process.pid }),
      );
  });

  it('parses the kernel tables, skipping sockets that are not listening', () => {
    const header =
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    const v4 =
      `${header}   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0 100 0 0 10 0\n` +
      '   1: 0100007F:A0B2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 23456 1 0 20 4 30 10 -1\n';
    expect(parseProcNetTcp(v4)).toEqual([{ port: 8080, address: '127.0.0.1', inode: 12345 }]);
    const v6 =
      `${header}   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1\n` +
      '   1: 0000000000000000FFFF00000100007F:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 778 1\n' +
      '   2: B80D0120000000000000000001000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 779 1\n';
    expect(parseProcNetTcp(v6)).toEqual([
      { port: 80, address: '::1', inode: 777 },
      { port: 22, address: '::ffff:127.0.0.1', inode: 778 },
      { port: 443, address: '2001:db8::1', inode: 779 },
    ]);
    expect(parseProcNetTcp('garbage\nnot a table at all\n')).toEqual([]);
  });
});
