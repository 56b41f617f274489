import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Secret } from '@warren/core';
import { wireguardControl } from '@warren/core/node';
import { describe, expect, it } from 'vitest';
import { createDaemonClient } from '../src/main/api/daemonClient';
import { silentLog } from '../src/main/log/desktopLog';
import { fallbackNotice, WireguardMode } from '../src/main/tunnels/WireguardMode';

/** A real client of a server that is not there: were it asked, the reason would say so. */
const nowhere = () =>
  wireguardControl(createDaemonClient({ url: 'http://127.0.0.1:1', token: new Secret('unused') }).wireguard);

describe('WireGuard mode falls back to the relay, saying why', () => {
  it('without wireguard-go, forwards use the relay and the notice names what is missing, before asking the server', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-nowg-'));
    const binary = path.join(dir, 'wireguard-go');
    try {
      const mode = new WireguardMode({ wanted: () => true, control: nowhere(), binary, log: silentLog });
      // Off on any machine but Linux, for that reason instead.
      const expected =
        process.platform === 'linux'
          ? `WireGuard is off: wireguard-go was not found at ${binary}; using the relay.`
          : `WireGuard is off: this app runs WireGuard devices on Linux only, not ${process.platform}; using the relay.`;
      expect(await mode.choose()).toEqual({ via: 'relay', notice: expected });
      expect(await mode.notice()).toBe(expected);
      expect(mode.interfaceName).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turned off, forwards use the relay with nothing to explain', async () => {
    const mode = new WireguardMode({ wanted: () => false, control: nowhere(), log: silentLog });
    expect(await mode.choose()).toEqual({ via: 'relay', notice: undefined });
    expect(await mode.notice()).toBeUndefined();
  });

  it('a failure to start the device reads as one sentence', () => {
    expect(fallbackNotice("Could not start this machine's WireGuard device: wireguard-go exited.")).toBe(
      "WireGuard is off: could not start this machine's WireGuard device: wireguard-go exited; using the relay.",
    );
  });
});
