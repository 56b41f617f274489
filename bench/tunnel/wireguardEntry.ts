// What bench/tunnel/wireguard.mjs bundles (with the repository's esbuild) from core's TypeScript.
export {
  generateWireguardKeyPair,
  UapiClient,
  WireguardGoProcess,
} from '../../packages/core/src/wireguard/node/index';
export { NetnsLab, netnsUnavailableReason } from '../../packages/core/test-support/netns';
export { runTcpTransfer } from '../../packages/core/test-support/runTcpTransfer';
