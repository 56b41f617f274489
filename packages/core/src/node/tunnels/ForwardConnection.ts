import type net from 'node:net';

export interface PortForward {
  localPort: number;
  remotePort: number;
  /** Default 127.0.0.1: forwards are for this machine unless asked otherwise. */
  localHost?: string;
  /** Where the agent connects inside the workspace; default 127.0.0.1. */
  remoteHost?: string;
}

/**
 * A live way into a workspace that PortForwarder carries local connections over: an SSH
 * connection (direct-tcpip channels, through the relay or over WireGuard), or a WireGuard tunnel
 * that carries each forward as a TCP connection of its own.
 */
export interface ForwardConnection {
  /**
   * Opens `forward.remotePort` in the workspace and joins `socket` (accepted locally, paused) to
   * it; rejects with a sentence when the workspace refuses, and `socket` is then the caller's.
   */
  carry(socket: net.Socket, forward: PortForward): Promise<void>;
  /** Calls `listener` once, when the connection is gone (dropped, or closed). */
  onClose(listener: (reason: string) => void): void;
  close(): void;
}
