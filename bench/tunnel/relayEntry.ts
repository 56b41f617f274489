// What bench/tunnel/relay.mjs bundles (with the repository's esbuild) from core's TypeScript: the
// client code `warren ssh` and `warren port-forward` run, and ssh2 itself (core's copy) for the
// session-setup floor: ssh2's client and server straight over loopback TCP.
import ssh2 from '../../packages/core/node_modules/ssh2';

export { connectWorkspaceSsh, ephemeralKeyPair, openSshTunnel } from '../../packages/core/src/node/index';
export { Secret } from '../../packages/core/src/secrets/Secret';
export const SshClient = ssh2.Client;
export const SshServer = ssh2.Server;
export const sshUtils = ssh2.utils;
