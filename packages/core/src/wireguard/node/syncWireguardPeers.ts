import type { WireguardPeerSpec } from '../networkMap';
import { planPeerSync } from '../peerSync';
import { WireguardUapiError } from '../WireguardUapiError';
import type { UapiClient } from './UapiClient';

/**
 * Brings a device's peers to `peers` (from a network map) with the smallest set. A set is not
 * transactional, so when one fails the plan is made again, once, from the state the device was
 * left in; a second failure is thrown. Returns how many peers were added, changed or removed.
 */
export async function syncWireguardPeers(
  client: UapiClient,
  peers: readonly WireguardPeerSpec[],
): Promise<number> {
  let device = await client.getDevice();
  for (let attempt = 0; ; attempt++) {
    const plan = planPeerSync(device, peers);
    if (!plan) return 0;
    try {
      await client.configure(plan);
      return plan.peers?.length ?? 0;
    } catch (error) {
      if (!(error instanceof WireguardUapiError) || !error.deviceAfter || attempt > 0) throw error;
      device = error.deviceAfter;
    }
  }
}
