// Node-only entry (`@warren/core/wireguard/node`): sockets, processes and node:crypto.
export * from './generateWireguardKeyPair';
export * from './syncWireguardPeers';
export * from './UapiClient';
export * from './WireguardGoProcess';
export * from './wireguardHelper';
