import type net from 'node:net';
import {
  decodeForwardRequest,
  encodeForwardAnswer,
  type ForwardAnswerStatus,
  type ForwardRequest,
  WarrenError,
} from '@warren/core';
import { connectTcp, readHeader, spliceSockets } from '@warren/core/node';

/** A client sends its 39-byte request at once; one that trickles or stalls is cut off. */
const HEADER_TIMEOUT_MS = 10_000;
/** The target is on this host; a firewall that drops (not refuses) must not hold the client long. */
const DIAL_TIMEOUT_MS = 10_000;
const REFUSE_GRACE_MS = 2000;

export interface ForwardAdmission {
  /** Whether the connecting peer holds this ticket now (waits a moment for a grant in flight). */
  admits(ticket: Uint8Array): Promise<boolean>;
  /** Takes a socket of this forward, so it closes when the peer is revoked. */
  track(socket: net.Socket): void;
}

/**
 * One port forward over WireGuard (see @warren/core's forwardHeader): reads the request, checks
 * the ticket, dials the port in the workspace and answers; then the two sockets carry bytes
 * (spliceSockets: no byte lost at the end). Garbage, a bad ticket or a refused port gets an
 * answer with a sentence and the connection closed; nothing a client sends can throw here.
 */
export async function serveWireguardForward(socket: net.Socket, admission: ForwardAdmission): Promise<void> {
  let request: ForwardRequest;
  try {
    request = await readHeader(socket, decodeForwardRequest, HEADER_TIMEOUT_MS);
  } catch (error) {
    const message =
      error instanceof WarrenError
        ? error.message
        : `Port forward header refused: ${(error as Error).message}.`;
    return refuse(socket, 'invalid', message);
  }
  if (!(await admits(admission, request.ticket)))
    return refuse(
      socket,
      'forbidden',
      'The workspace agent holds no valid port forward ticket for this device; it may have restarted, or access was revoked.',
    );
  if (socket.destroyed) return;
  let target: net.Socket;
  try {
    // The workspace's own ports: the agent runs beside them.
    target = await connectTcp(
      { host: '127.0.0.1', port: request.port, allowHalfOpen: true, noDelay: true },
      DIAL_TIMEOUT_MS,
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ECONNREFUSED'
      ? refuse(
          socket,
          'refused',
          `Nothing listens on port ${request.port} in the workspace (connection refused).`,
        )
      : refuse(
          socket,
          'unreachable',
          `Port ${request.port} in the workspace could not be reached (${code ?? (error as Error).message}).`,
        );
  }
  // Revoked (or gone) while dialling: the target connection has no one to serve.
  if (socket.destroyed) return void target.destroy();
  admission.track(target);
  socket.write(encodeForwardAnswer({ status: 'ok', message: '' }));
  spliceSockets(socket, target);
}

async function admits(admission: ForwardAdmission, ticket: Uint8Array): Promise<boolean> {
  try {
    return await admission.admits(ticket);
  } catch {
    return false;
  }
}

/**
 * Answers with the sentence and ends the connection. What the client still sends is read and
 * dropped, so the close is not a reset that could beat the answer to it; a client that keeps
 * sending is cut off after REFUSE_GRACE_MS.
 */
function refuse(socket: net.Socket, status: Exclude<ForwardAnswerStatus, 'ok'>, message: string): void {
  if (socket.destroyed || !socket.writable) return void socket.destroy();
  const timer = setTimeout(() => socket.destroy(), REFUSE_GRACE_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.resume();
  socket.end(encodeForwardAnswer({ status, message }));
}
