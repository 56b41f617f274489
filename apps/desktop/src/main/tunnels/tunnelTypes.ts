import { z } from 'zod';

const port = z.number().int().min(1).max(65535);

/** A forward saved for a workspace: localhost:localPort → the workspace's 127.0.0.1:remotePort. */
export const savedForwardSchema = z.object({ localPort: port, remotePort: port }).strict();
export type SavedForward = z.infer<typeof savedForwardSchema>;

/** `off` until connected; `failed` when it cannot go on (a busy port, a revoked token) and says why. */
export type TunnelState = 'off' | 'connecting' | 'connected' | 'reconnecting' | 'failed';

/** How forwards reach the workspace: the daemon's relay, or this computer's WireGuard device. */
export type TunnelVia = 'relay' | 'wireguard';

export interface WorkspaceTunnels {
  workspace: string;
  state: TunnelState;
  /** Why it is reconnecting or failed, as a sentence. */
  detail: string | undefined;
  /** The route of a tunnel that was opened; undefined while it is off. */
  via: TunnelVia | undefined;
  /** Why WireGuard was asked for but the relay is used, as a sentence. */
  notice: string | undefined;
  forwards: SavedForward[];
}
