/**
 * The ProxyCommand of the desktop's SSH config entries (bundled alone as dist/warren-ssh-proxy.mjs,
 * run by Node or by the app's own binary as Node): it hands OpenSSH's bytes to the running desktop
 * over a local socket, which tunnels them to the workspace. Dependency-free, so it starts fast.
 *
 *   warren-ssh-proxy --socket PATH --key-file PATH --workspace NAME --alias warren.NAME
 */
import fs from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';

function main(): void {
  const { values } = parseArgs({
    options: {
      socket: { type: 'string' },
      'key-file': { type: 'string' },
      workspace: { type: 'string' },
      alias: { type: 'string' },
    },
    strict: true,
  });
  const { socket: socketPath, 'key-file': keyFile, workspace, alias } = values;
  if (!socketPath || !keyFile || !workspace || !alias)
    fail('usage: warren-ssh-proxy --socket PATH --key-file PATH --workspace NAME --alias ALIAS');
  let key: string;
  try {
    key = fs.readFileSync(keyFile, 'utf8').trim();
  } catch {
    fail('Warren desktop is not running (start it, then try again).');
  }
  const socket = net.connect(socketPath);
  socket.once('error', () => fail('Warren desktop is not running (start it, then try again).'));
  socket.once('connect', () => socket.write(`${JSON.stringify({ v: 1, key, workspace, alias })}\n`));
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const newline = buffered.indexOf(0x0a);
    if (newline < 0) return;
    socket.off('data', onData);
    const reply = JSON.parse(buffered.subarray(0, newline).toString('utf8')) as {
      ok: boolean;
      error?: string;
    };
    if (!reply.ok) fail(reply.error ?? 'Warren desktop refused the connection.');
    const rest = buffered.subarray(newline + 1);
    if (rest.length > 0) process.stdout.write(rest);
    process.stdin.pipe(socket);
    socket.pipe(process.stdout);
    process.stdin.once('end', () => socket.end());
    socket.once('close', () => process.exit(0));
  };
  socket.on('data', onData);
}

function fail(message: string): never {
  process.stderr.write(`warren: ${message}\n`);
  process.exit(1);
}

main();
