import { createConnection } from 'node:net';
import { WarrenError } from '../../errors/WarrenError';
import { parseUapiGetReply, UAPI_GET_REQUEST } from '../uapiGet';
import { checkSetReply, UapiReplyReader } from '../uapiReply';
import { encodeUapiSetRequest, type WireguardDeviceConfig } from '../uapiSet';
import type { WireguardDeviceState } from '../WireguardDevice';
import { WireguardUapiError } from '../WireguardUapiError';

/** Where wireguard-go and wg(8) put the sockets on Linux and macOS. */
export const DEFAULT_WIREGUARD_SOCKET_DIR = '/var/run/wireguard';

/** Linux interface names: at most 15 characters, and safe to put in a socket path. */
const INTERFACE_NAME = /^[A-Za-z0-9_=+.-]{1,15}$/;

export function assertInterfaceName(name: string): void {
  if (!INTERFACE_NAME.test(name) || name === '.' || name === '..')
    throw new WarrenError(
      'INVALID_INPUT',
      `"${name.slice(0, 32)}" is not a network interface name: use 1 to 15 letters, digits or _=+.-.`,
    );
}

export interface UapiClientOptions {
  socketDir?: string;
  /** How long one request may take, connect included. */
  timeoutMs?: number;
}

/**
 * Node only. Talks UAPI to one WireGuard device over its unix socket, one connection per request
 * as wg(8) does: wireguard-go leaves the rest of a failed set unread on the socket and would read
 * it as the next request, so a connection is never reused.
 */
export class UapiClient {
  readonly socketPath: string;
  readonly #timeoutMs: number;

  constructor(
    readonly interfaceName: string,
    options: UapiClientOptions = {},
  ) {
    assertInterfaceName(interfaceName);
    this.socketPath = `${options.socketDir ?? DEFAULT_WIREGUARD_SOCKET_DIR}/${interfaceName}.sock`;
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  async getDevice(): Promise<WireguardDeviceState> {
    return parseUapiGetReply(await this.#exchange(UAPI_GET_REQUEST), this.interfaceName);
  }

  /**
   * Applies `config`. On an errno reply it throws WireguardUapiError with `deviceAfter` set to a
   * fresh read of the device, because the lines before the failing one took effect.
   */
  async configure(config: WireguardDeviceConfig): Promise<void> {
    const reply = await this.#exchange(encodeUapiSetRequest(config));
    try {
      checkSetReply(reply, this.interfaceName);
    } catch (error) {
      if (error instanceof WireguardUapiError)
        error.deviceAfter = await this.getDevice().catch(() => undefined);
      throw error;
    }
  }

  #exchange(request: string): Promise<string> {
    const name = this.interfaceName;
    return new Promise((resolve, reject) => {
      const reader = new UapiReplyReader(name);
      const socket = createConnection(this.socketPath);
      let settled = false;
      const finish = (error: Error | undefined, reply?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        if (error) reject(error);
        else resolve(reply as string);
      };
      const timer = setTimeout(
        () =>
          finish(
            new WarrenError(
              'UNAVAILABLE',
              `WireGuard interface ${name} did not answer within ${this.#timeoutMs} ms.`,
            ),
          ),
        this.#timeoutMs,
      );
      socket.on('connect', () => socket.end(request));
      socket.on('data', (chunk: Buffer) => {
        try {
          const reply = reader.push(chunk);
          if (reply !== undefined) finish(undefined, reply);
        } catch (error) {
          finish(error as Error);
        }
      });
      socket.on('error', (error: NodeJS.ErrnoException) => finish(this.#socketError(error)));
      socket.on('close', () =>
        finish(
          new WarrenError(
            'UPSTREAM',
            `WireGuard interface ${name} closed the connection before it answered.`,
          ),
        ),
      );
    });
  }

  #socketError(error: NodeJS.ErrnoException): WarrenError {
    if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED')
      return new WarrenError(
        'UNAVAILABLE',
        `WireGuard interface ${this.interfaceName} is not running: nothing listens on ${this.socketPath}.`,
      );
    if (error.code === 'EACCES' || error.code === 'EPERM')
      return new WarrenError(
        'FORBIDDEN',
        `Warren may not open ${this.socketPath}; WireGuard sockets need root.`,
      );
    return new WarrenError(
      'UNAVAILABLE',
      `Could not talk to WireGuard interface ${this.interfaceName}: ${error.message}.`,
      {
        cause: error,
      },
    );
  }
}
