import type { Secret } from '../secrets/Secret';

/** One peer as a WireGuard device reports it (UAPI `get`). Keys are base64. */
export interface WireguardPeerState {
  publicKey: string;
  presharedKey: Secret | undefined;
  /** Where the peer's packets last came from, or where it was told to send; undefined if unknown. */
  endpoint: string | undefined;
  allowedIps: string[];
  /** 0 when keepalives are off. */
  persistentKeepaliveSeconds: number;
  /** The last completed handshake; undefined if none happened yet. */
  lastHandshakeAt: Date | undefined;
  rxBytes: number;
  txBytes: number;
  protocolVersion: number;
}

/** A WireGuard device as UAPI `get` reports it. */
export interface WireguardDeviceState {
  privateKey: Secret | undefined;
  /** 0 when the device has not bound a port yet. */
  listenPort: number;
  fwmark: number;
  peers: WireguardPeerState[];
}
