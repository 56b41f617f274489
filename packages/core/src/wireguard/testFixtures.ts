// Shared by the wireguard unit tests: a reply captured from wireguard-go 0.0.20220316 (Debian 12),
// configured with `wg set`, and the throwaway keys it was configured with.
export const CAPTURED_PRIVATE_KEY = 'cPfx8P14XzSE07op80yRF5lEMarORdurKHFB52TMYlw=';
export const CAPTURED_PRIVATE_KEY_HEX = '70f7f1f0fd785f3484d3ba29f34c9117994431aace45dbab287141e764cc625c';
export const CAPTURED_PUBLIC_KEY = '8XCf7Ia/4ZUcYrPDDneNHklH919+wIMrNVpca4tbrxY=';
export const CAPTURED_PEER_KEY = '9v9lrg6pH5ee2OZisxwPjHdYuT9lEo/PTqLe4phDzzs=';
export const CAPTURED_PEER_KEY_HEX = 'f6ff65ae0ea91f979ed8e662b31c0f8c7758b93f65128fcf4ea2dee29843cf3b';

export const CAPTURED_GET_REPLY = [
  `private_key=${CAPTURED_PRIVATE_KEY_HEX}`,
  'listen_port=51820',
  `public_key=${CAPTURED_PEER_KEY_HEX}`,
  `preshared_key=${'0'.repeat(64)}`,
  'protocol_version=1',
  'endpoint=192.168.77.2:51821',
  'last_handshake_time_sec=0',
  'last_handshake_time_nsec=0',
  'tx_bytes=148',
  'rx_bytes=0',
  'persistent_keepalive_interval=25',
  'allowed_ip=100.64.0.2/32',
  'allowed_ip=fd7a::2/128',
  'errno=0',
  '',
  '',
].join('\n');
