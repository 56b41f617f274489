import { Secret } from '../secrets/Secret';
import { isIpPrefix, isWireguardEndpoint } from './addressSyntax';
import { malformedReply, replyLines } from './uapiReply';
import type { WireguardDeviceState, WireguardPeerState } from './WireguardDevice';
import { wireguardKeyFromHex, ZERO_KEY_HEX } from './wireguardKey';

/** The whole get request: the operation line and the blank line that ends it. */
export const UAPI_GET_REQUEST = 'get=1\n\n';

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const UNSIGNED = /^[0-9]{1,20}$/;
const SECRET_KEYS = new Set(['private_key', 'preshared_key']);
const PEER_KEYS = new Set([
  'preshared_key',
  'endpoint',
  'allowed_ip',
  'persistent_keepalive_interval',
  'last_handshake_time_sec',
  'last_handshake_time_nsec',
  'rx_bytes',
  'tx_bytes',
  'protocol_version',
]);

type Pair = [key: string, value: string];

class GetReplyParser {
  readonly device: WireguardDeviceState = { privateKey: undefined, listenPort: 0, fwmark: 0, peers: [] };
  #peer: WireguardPeerState | undefined;
  #handshakeSec = 0;
  #handshakeNsec = 0;

  constructor(private readonly interfaceName: string) {}

  line(index: number, [key, value]: Pair): void {
    if (key === 'public_key') {
      this.#startPeer(index, value);
      return;
    }
    if (this.#peer) {
      this.#peerLine(index, this.#peer, key, value);
      return;
    }
    switch (key) {
      case 'private_key':
        this.device.privateKey = this.#secretKey(index, key, value);
        return;
      case 'listen_port':
        this.device.listenPort = this.#number(index, key, value, 65535);
        return;
      case 'fwmark':
        this.device.fwmark = this.#number(index, key, value, 0xffffffff);
        return;
      default:
        if (PEER_KEYS.has(key))
          throw malformedReply(
            this.interfaceName,
            `line ${index + 1} has the peer setting ${key} before any public_key`,
          );
        this.#unknown(index, key);
    }
  }

  finish(): WireguardDeviceState {
    this.#endPeer();
    return this.device;
  }

  #startPeer(index: number, value: string): void {
    this.#endPeer();
    if (!HEX_KEY.test(value)) throw this.#bad(index, 'public_key', value, 'is not 64 hex characters');
    this.#peer = {
      publicKey: wireguardKeyFromHex(value),
      presharedKey: undefined,
      endpoint: undefined,
      allowedIps: [],
      persistentKeepaliveSeconds: 0,
      lastHandshakeAt: undefined,
      rxBytes: 0,
      txBytes: 0,
      protocolVersion: 1,
    };
    this.#handshakeSec = 0;
    this.#handshakeNsec = 0;
  }

  #endPeer(): void {
    if (!this.#peer) return;
    // UAPI says "never" with both fields 0.
    if (this.#handshakeSec !== 0 || this.#handshakeNsec !== 0)
      this.#peer.lastHandshakeAt = new Date(
        this.#handshakeSec * 1000 + Math.floor(this.#handshakeNsec / 1e6),
      );
    this.device.peers.push(this.#peer);
    this.#peer = undefined;
  }

  #peerLine(index: number, peer: WireguardPeerState, key: string, value: string): void {
    switch (key) {
      case 'preshared_key':
        peer.presharedKey = this.#secretKey(index, key, value);
        return;
      case 'endpoint':
        if (!isWireguardEndpoint(value)) throw this.#bad(index, key, value, 'is not an IP:port endpoint');
        peer.endpoint = value;
        return;
      case 'allowed_ip':
        if (!isIpPrefix(value)) throw this.#bad(index, key, value, 'is not an IP prefix');
        peer.allowedIps.push(value);
        return;
      case 'persistent_keepalive_interval':
        peer.persistentKeepaliveSeconds = this.#number(index, key, value, 65535);
        return;
      case 'last_handshake_time_sec':
        // Seconds since 1970 that a Date can hold (year 275760), which also keeps ms exact.
        this.#handshakeSec = this.#number(index, key, value, 8.64e12);
        return;
      case 'last_handshake_time_nsec':
        this.#handshakeNsec = this.#number(index, key, value, 999_999_999);
        return;
      case 'rx_bytes':
        peer.rxBytes = this.#number(index, key, value, Number.MAX_SAFE_INTEGER);
        return;
      case 'tx_bytes':
        peer.txBytes = this.#number(index, key, value, Number.MAX_SAFE_INTEGER);
        return;
      case 'protocol_version':
        peer.protocolVersion = this.#number(index, key, value, 0xffffffff);
        return;
      default:
        this.#unknown(index, key);
    }
  }

  #unknown(index: number, key: string): void {
    // Newer devices may add keys; skipping them keeps old clients working, as wg(8) does. The
    // operation keys and errno are never valid inside a reply, so they mean a garbled stream.
    if (key === 'errno' || key === 'get' || key === 'set')
      throw malformedReply(this.interfaceName, `line ${index + 1} repeats "${key}" inside the reply`);
  }

  #secretKey(index: number, key: string, value: string): Secret | undefined {
    if (!HEX_KEY.test(value)) throw this.#bad(index, key, value, 'is not 64 hex characters');
    return value === ZERO_KEY_HEX ? undefined : new Secret(wireguardKeyFromHex(value));
  }

  #number(index: number, key: string, value: string, max: number): number {
    const parsed = UNSIGNED.test(value) ? Number(value) : Number.NaN;
    if (!(parsed <= max)) throw this.#bad(index, key, value, `is not a whole number from 0 to ${max}`);
    return parsed;
  }

  #bad(index: number, key: string, value: string, problem: string) {
    // Private and preshared keys are never quoted back, even malformed: they may be nearly right.
    const shown = SECRET_KEYS.has(key) ? '' : ` ${JSON.stringify(value.slice(0, 48))}`;
    return malformedReply(this.interfaceName, `line ${index + 1}: ${key}${shown} ${problem}`);
  }
}

/**
 * Reads a complete reply to `get=1` (as UapiReplyReader frames it) into the device state. Throws
 * WireguardUapiError for a non-zero errno and WarrenError(UPSTREAM) for a reply it cannot read.
 */
export function parseUapiGetReply(reply: string, interfaceName = 'device'): WireguardDeviceState {
  const parser = new GetReplyParser(interfaceName);
  for (const [index, pair] of replyLines(reply, 'get', interfaceName).entries()) parser.line(index, pair);
  return parser.finish();
}
