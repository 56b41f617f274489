import { z } from 'zod';

const port = z.number().int().min(1).max(65535);

/** A forward saved for a workspace: localhost:localPort → the workspace's 127.0.0.1:remotePort. */
export const savedForwardSchema = z.object({ localPort: port, remotePort: port }).strict();
export type SavedForward = z.infer<typeof savedForwardSchema>;

/** `off` until connected; `failed` when it cannot go on (a busy port, a revoked token) and says why. */
export type TunnelState = 'off' | 'connecting' | 'connected' | 'reconnecting' | 'failed';

export interface WorkspaceTunnels {
  workspace: string;
  state: TunnelState;
  /** Why it is reconnecting or failed, as a sentence. */
  detail: string | undefined;
  forwards: SavedForward[];
}
