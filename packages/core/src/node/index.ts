/** Node-only parts of core (sockets, SSH): the CLI, the desktop's main process and tests use them. */

export * from '../wireguard/node/index';
export * from './fs/findOnPath';
export * from './fs/isExecutableFile';
export * from './fs/writeFileAtomically';
export * from './ssh/index';
export * from './streamingHeap';
export * from './tunnels/coalesceSocketWrites';
export * from './tunnels/connectTcp';
export * from './tunnels/ForwardConnection';
export * from './tunnels/openTunnel';
export * from './tunnels/PortForwarder';
export * from './tunnels/rawDataBytes';
export * from './tunnels/readHeader';
export * from './tunnels/spliceChannel';
export * from './tunnels/terminalClient';
export * from './tunnels/tunnelStream';
export * from './tunnels/WireguardClientDevice';
export * from './tunnels/wireguardControl';
export * from './tunnels/workspaceForwardsOverWireguard';
export * from './tunnels/workspaceSsh';
export * from './tunnels/workspaceSshOverWireguard';
