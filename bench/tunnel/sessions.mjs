// Session setup, one at a time: a new SSH session through the relay (tunnel open, key exchange,
// host key pinned, client key accepted) and, as its floor, the same ssh2 handshake straight over
// loopback TCP. Each session is closed, and its close awaited, before the next opens.
import net from 'node:net';
import { WORKSPACE } from './relay.mjs';

const OPEN_TIMEOUT_MS = 20_000;

/** Resolves when `emitter` next emits `event`. */
const whenClosed = (emitter, event = 'close') => new Promise((resolve) => emitter.once(event, resolve));

/**
 * Milliseconds from asking for a tunnel until the daemon's `connected` frame: authentication, the
 * access check, the agent dialling its stream back and the WebSocket upgrade. No SSH yet.
 */
export async function relayTunnelOpen(client, relay, publicKey) {
  const target = { url: relay.url, token: new client.Secret(relay.token) };
  const start = performance.now();
  const { socket } = await client.openSshTunnel(target, WORKSPACE, publicKey);
  const ms = performance.now() - start;
  const closed = whenClosed(socket);
  socket.close();
  await closed;
  return ms;
}

/** Milliseconds from asking for a tunnel until ssh2 says the session is ready (authenticated, usable). */
export async function relaySessionSetup(client, relay) {
  const target = { url: relay.url, token: new client.Secret(relay.token) };
  const start = performance.now();
  const ssh = await client.connectWorkspaceSsh(target, WORKSPACE, { keepaliveIntervalMs: 0 });
  const ms = performance.now() - start;
  const closed = whenClosed(ssh.client);
  ssh.close();
  await closed;
  return ms;
}

/**
 * The floor under the relay's session setup: ssh2's server on a loopback port, with an ed25519
 * host key and the agent's checks (one allowed client key, its signature verified), and TCP_NODELAY
 * on both ends as the relay's sockets have. { port, clientKey, hostKeyBlob, close }.
 */
export async function startSshFloor(client) {
  const host = client.ephemeralKeyPair();
  const user = client.ephemeralKeyPair();
  const allowed = client.sshUtils.parseKey(user.publicKey);
  const ssh = new client.SshServer({ hostKeys: [host.privateKey] }, (connection) => {
    connection.on('error', () => {});
    connection.on('authentication', (ctx) => {
      const same = ctx.method === 'publickey' && ctx.key.data.equals(allowed.getPublicSSH());
      if (!same) return ctx.reject(['publickey']);
      if (!ctx.signature) return ctx.accept();
      if (allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) return ctx.accept();
      ctx.reject(['publickey']);
    });
  });
  const server = net.createServer({ noDelay: true }, (socket) => ssh.injectSocket(socket));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    clientKey: user.privateKey,
    hostKeyBlob: client.sshUtils.parseKey(host.publicKey).getPublicSSH(),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Milliseconds from connect() to the floor server until ssh2 says the session is ready. */
export async function floorSessionSetup(client, floor) {
  const ssh = new client.SshClient();
  const start = performance.now();
  await new Promise((resolve, reject) => {
    const sock = net.connect({ port: floor.port, host: '127.0.0.1', noDelay: true });
    ssh.once('ready', resolve);
    ssh.once('error', (error) =>
      reject(new Error(`ssh2 could not sign in to the loopback server: ${error.message}.`)),
    );
    ssh.connect({
      sock,
      username: 'bench',
      privateKey: floor.clientKey,
      hostVerifier: (key) => key.equals(floor.hostKeyBlob),
      readyTimeout: OPEN_TIMEOUT_MS,
    });
  });
  const ms = performance.now() - start;
  const closed = whenClosed(ssh);
  ssh.end();
  await closed;
  return ms;
}
