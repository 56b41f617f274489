import { z } from 'zod';
import { WarrenError } from '../errors/WarrenError';

/**
 * How a port forward over WireGuard opens (WireGuard already encrypts and authenticates the
 * peers, so the bytes after it are the forwarded connection's own, not SSH). The client connects
 * to the agent's forward port on its tunnel address and sends one fixed-size request:
 *
 *   "WFWD"  version (1)  ticket (32 bytes)  target port (u16, big-endian)       = 39 bytes
 *
 * The ticket is the one the daemon granted the agent for this client device. The agent answers
 *
 *   status (u8)  message length (u8)  message (UTF-8 sentence, empty when ok)
 *
 * and, when ok, both sides just carry bytes. Pure: no sockets, no Node built-ins; decoders take
 * what has arrived so far and say whether they need more.
 */

export const FORWARD_TICKET_BYTES = 32;
/** A ticket as it travels in JSON (daemon -> agent frame, daemon -> client answer): base64url. */
export const forwardTicketSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'is not a port forward ticket');
const MAGIC = [0x57, 0x46, 0x57, 0x44]; // "WFWD"
const VERSION = 1;
export const FORWARD_REQUEST_BYTES = MAGIC.length + 1 + FORWARD_TICKET_BYTES + 2;
const MAX_MESSAGE_BYTES = 255;

export interface ForwardRequest {
  ticket: Uint8Array;
  port: number;
}

export const forwardAnswerStatuses = {
  ok: 0,
  /** The ticket is not (or no longer) one the agent holds for this device. */
  forbidden: 1,
  /** Nothing listens on the port in the workspace. */
  refused: 2,
  /** The port could not be reached for another reason (the message says which). */
  unreachable: 3,
  /** The request could not be read. */
  invalid: 4,
} as const;
export type ForwardAnswerStatus = keyof typeof forwardAnswerStatuses;
const statusByByte = new Map<number, ForwardAnswerStatus>(
  Object.entries(forwardAnswerStatuses).map(([name, byte]) => [byte, name as ForwardAnswerStatus]),
);

export interface ForwardAnswer {
  status: ForwardAnswerStatus;
  message: string;
}

/** A decoder's verdict on the bytes so far: more are needed, or the value and the bytes after it. */
export type Decoded<T> = { done: false } | { done: true; value: T; rest: Uint8Array };

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function invalid(message: string): WarrenError {
  return new WarrenError('INVALID_INPUT', `Port forward header refused: ${message}.`);
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

export function encodeForwardRequest(request: ForwardRequest): Uint8Array {
  if (request.ticket.byteLength !== FORWARD_TICKET_BYTES)
    throw invalid(`a ticket is ${FORWARD_TICKET_BYTES} bytes, not ${request.ticket.byteLength}`);
  if (!validPort(request.port)) throw invalid(`${request.port} is not a TCP port`);
  const out = new Uint8Array(FORWARD_REQUEST_BYTES);
  out.set(MAGIC, 0);
  out[MAGIC.length] = VERSION;
  out.set(request.ticket, MAGIC.length + 1);
  new DataView(out.buffer).setUint16(FORWARD_REQUEST_BYTES - 2, request.port);
  return out;
}

/**
 * The request at the start of `bytes`. Throws WarrenError('INVALID_INPUT') as soon as a byte is
 * wrong (a stray client or garbage is refused on its first bytes, not after a timeout).
 */
export function decodeForwardRequest(bytes: Uint8Array): Decoded<ForwardRequest> {
  for (let i = 0; i < Math.min(bytes.byteLength, MAGIC.length); i++)
    if (bytes[i] !== MAGIC[i]) throw invalid('this port takes Warren port forwards only');
  const version = bytes[MAGIC.length];
  if (version !== undefined && version !== VERSION)
    throw invalid(`version ${version} is not one this agent speaks (${VERSION})`);
  if (bytes.byteLength < FORWARD_REQUEST_BYTES) return { done: false };
  const port = new DataView(bytes.buffer, bytes.byteOffset).getUint16(FORWARD_REQUEST_BYTES - 2);
  if (port === 0) throw invalid('port 0 is not a TCP port');
  return {
    done: true,
    value: { ticket: bytes.slice(MAGIC.length + 1, MAGIC.length + 1 + FORWARD_TICKET_BYTES), port },
    rest: bytes.subarray(FORWARD_REQUEST_BYTES),
  };
}

/** An answer; a longer message is cut at a character boundary to fit its length byte. */
export function encodeForwardAnswer(answer: ForwardAnswer): Uint8Array {
  if (answer.status === 'ok' && answer.message !== '') throw invalid('an ok answer has no message');
  let message = utf8.encode(answer.message);
  if (message.byteLength > MAX_MESSAGE_BYTES) {
    let end = MAX_MESSAGE_BYTES;
    while (end > 0 && ((message[end] ?? 0) & 0xc0) === 0x80) end--;
    message = message.slice(0, end);
  }
  const out = new Uint8Array(2 + message.byteLength);
  out[0] = forwardAnswerStatuses[answer.status];
  out[1] = message.byteLength;
  out.set(message, 2);
  return out;
}

export function decodeForwardAnswer(bytes: Uint8Array): Decoded<ForwardAnswer> {
  const statusByte = bytes[0];
  if (statusByte === undefined) return { done: false };
  const status = statusByByte.get(statusByte);
  if (!status) throw invalid(`${statusByte} is not an answer status`);
  const length = bytes[1];
  if (length === undefined) return { done: false };
  if (status === 'ok' && length !== 0) throw invalid('an ok answer has no message');
  if (bytes.byteLength < 2 + length) return { done: false };
  let message: string;
  try {
    message = strictUtf8.decode(bytes.subarray(2, 2 + length));
  } catch {
    throw invalid('the message is not UTF-8 text');
  }
  return { done: true, value: { status, message }, rest: bytes.subarray(2 + length) };
}
