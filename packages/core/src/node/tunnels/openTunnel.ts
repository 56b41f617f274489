import type { Duplex } from 'node:stream';
import { type RawData, WebSocket } from 'ws';
import { z } from 'zod';
import { sshPublicKeySchema } from '../../agent/protocol';
import { isErrorCode, WarrenError } from '../../errors/WarrenError';
import type { Secret } from '../../secrets/Secret';
import { tunnelStream, zeroMask } from './tunnelStream';

/** The daemon's first (text) frame on a tunnel, before the relayed bytes. */
const connectedFrame = z.object({
  type: z.literal('connected'),
  workspace: z.object({ id: z.string(), owner: z.string(), name: z.string() }),
  hostKey: sshPublicKeySchema.optional(),
});
export type TunnelConnected = z.infer<typeof connectedFrame>;

export interface TunnelTarget {
  /** The daemon's URL, http(s)://host[:port][/base]. */
  url: string;
  token: Secret;
}

export interface OpenedTunnel<S = Duplex> {
  socket: WebSocket;
  connected: TunnelConnected;
  /** The relayed bytes, from the first one after `connected`. */
  stream: S;
}

/**
 * What reads the relayed messages; it is attached in the same tick as `connected` arrives,
 * because the agent's first bytes may be in the same read and a message nobody hears is lost.
 */
export type TunnelReader<S> = (socket: WebSocket) => S;

const asStream: TunnelReader<Duplex> = tunnelStream;

/** How long opening a tunnel may take: the daemon itself waits up to 10 s for the agent. */
const OPEN_TIMEOUT_MS = 20_000;

/**
 * Opens a tunnel socket (`/api/v2/tunnels/ssh` or `/terminal`) and waits for the daemon's
 * `connected` frame. A refusal (not signed in, not your workspace, stopped, agent away) becomes
 * the daemon's own sentence as a WarrenError.
 */
export function openTunnel(
  target: TunnelTarget,
  path: string,
  query: Record<string, string | number | undefined>,
  headers?: Record<string, string>,
): Promise<OpenedTunnel<Duplex>>;
export function openTunnel<S>(
  target: TunnelTarget,
  path: string,
  query: Record<string, string | number | undefined>,
  headers: Record<string, string>,
  reader: TunnelReader<S>,
): Promise<OpenedTunnel<S>>;
export function openTunnel<S>(
  target: TunnelTarget,
  path: string,
  query: Record<string, string | number | undefined>,
  headers: Record<string, string> = {},
  reader?: TunnelReader<S>,
): Promise<OpenedTunnel<S | Duplex>> {
  const url = tunnelUrl(target.url, path, query);
  return new Promise<OpenedTunnel<S | Duplex>>((resolve, reject) => {
    const socket = new WebSocket(url, {
      headers: { ...headers, authorization: `Bearer ${target.token.reveal()}` },
      perMessageDeflate: false,
      generateMask: zeroMask,
      handshakeTimeout: OPEN_TIMEOUT_MS,
    });
    let settled = false;
    const fail = (error: WarrenError) => {
      if (settled) return;
      settled = true;
      socket.terminate();
      reject(error);
    };
    socket.once('unexpected-response', (_request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.length < 64 && chunks.push(chunk));
      response.on('end', () =>
        fail(refusal(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))),
      );
      response.on('error', () => fail(refusal(response.statusCode ?? 0, '')));
    });
    socket.once('error', (error) =>
      fail(
        new WarrenError(
          'UNAVAILABLE',
          `Could not reach the Warren server at ${target.url}: ${error.message}.`,
        ),
      ),
    );
    socket.once('close', (code, reason) =>
      fail(
        new WarrenError('UNAVAILABLE', `The tunnel closed before it opened (${code} ${reason.toString()}).`),
      ),
    );
    socket.once('open', () => {
      (socket as unknown as { _socket?: { setNoDelay(v: boolean): void } })._socket?.setNoDelay(true);
    });
    socket.once('message', (data: RawData, isBinary: boolean) => {
      const parsed = isBinary ? undefined : parseConnected(data);
      if (!parsed)
        return fail(new WarrenError('UPSTREAM', 'The server did not open the tunnel as expected.'));
      settled = true;
      socket.removeAllListeners('close');
      socket.removeAllListeners('error');
      resolve({ socket, connected: parsed, stream: (reader ?? asStream)(socket) });
    });
  });
}

function parseConnected(data: RawData): TunnelConnected | undefined {
  try {
    const parsed = connectedFrame.safeParse(JSON.parse(String(data)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function refusal(status: number, body: string): WarrenError {
  try {
    const error = (JSON.parse(body) as { error?: { code?: unknown; message?: unknown } }).error;
    if (error && isErrorCode(error.code) && typeof error.message === 'string')
      return new WarrenError(error.code, error.message);
  } catch {}
  return new WarrenError('UPSTREAM', `The server refused the tunnel (HTTP ${status}).`);
}

export function tunnelUrl(
  base: string,
  path: string,
  query: Record<string, string | number | undefined>,
): URL {
  const root = new URL(base);
  const prefix = root.pathname.replace(/\/+$/, '');
  const url = new URL(`${prefix}${path}`, root);
  url.protocol = root.protocol === 'https:' ? 'wss:' : 'ws:';
  for (const [key, value] of Object.entries(query))
    if (value !== undefined) url.searchParams.set(key, String(value));
  return url;
}
