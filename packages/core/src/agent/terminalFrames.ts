import { z } from 'zod';
import { type ErrorCode, isErrorCode, WarrenError } from '../errors/WarrenError';

/**
 * One terminal over one WebSocket, as binary frames: the first byte says what the frame is,
 * the rest is its body. Client -> agent: `input` (keystrokes, raw bytes) and `resize`; agent ->
 * client: `output` (raw bytes), `exit` and `error`. Each side decodes only what the other side
 * may send, so a client can never make the agent believe it got output, nor the reverse.
 * Pure: no sockets, no Node built-ins (the renderer imports this too).
 */

/** The largest frame either side sends or accepts, checked before anything else. */
export const MAX_TERMINAL_FRAME_BYTES = 1024 * 1024;
/** Input and output bodies stay under this, so every frame fits with its type byte. */
export const MAX_TERMINAL_DATA_BYTES = MAX_TERMINAL_FRAME_BYTES - 1;
/** No real screen is wider or taller; the PTY's own limit is 65535. */
export const MAX_TERMINAL_DIMENSION = 4096;
/** An error frame's message is a sentence, not a log. */
export const MAX_TERMINAL_ERROR_MESSAGE_BYTES = 1024;
const MAX_SIGNAL_NAME_BYTES = 32;
const MAX_ERROR_CODE_BYTES = 32;

const frameTypes = {
  input: 0x00,
  resize: 0x01,
  output: 0x80,
  exit: 0x81,
  error: 0x82,
} as const;

export const terminalSizeSchema = z
  .object({
    cols: z.number().int().min(1).max(MAX_TERMINAL_DIMENSION),
    rows: z.number().int().min(1).max(MAX_TERMINAL_DIMENSION),
  })
  .strict();
export type TerminalSize = z.infer<typeof terminalSizeSchema>;

/**
 * What a client asks for when it opens or reopens a terminal: the id is the client's choice,
 * and the same id reattaches to the same running process.
 */
export const terminalAttachSchema = z
  .object({
    id: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
        'must be 1 to 128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit',
      ),
    /** Run through the login shell with `-c`; the login shell itself when absent. */
    command: z.string().min(1).max(16_384).optional(),
    cwd: z.string().min(1).max(4096).optional(),
    env: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,255}$/, 'must be a valid environment variable name'),
        z.string().max(32_768),
      )
      .refine((env) => Object.keys(env).length <= 256, 'may set at most 256 variables')
      .optional(),
    cols: terminalSizeSchema.shape.cols.default(80),
    rows: terminalSizeSchema.shape.rows.default(24),
  })
  .strict();
export type TerminalAttachInput = z.input<typeof terminalAttachSchema>;
export type TerminalAttachRequest = z.infer<typeof terminalAttachSchema>;

export type TerminalClientFrame = { type: 'input'; data: Uint8Array } | ({ type: 'resize' } & TerminalSize);

export type TerminalAgentFrame =
  | { type: 'output'; data: Uint8Array }
  /** `exitCode` is null when a signal ended the process; `signal` is its name, e.g. SIGKILL. */
  | { type: 'exit'; exitCode: number | null; signal: string | null }
  | { type: 'error'; code: ErrorCode; message: string };

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function invalid(message: string): WarrenError {
  return new WarrenError('INVALID_INPUT', `Terminal frame refused: ${message}`);
}

function frame(type: number, bodyLength: number): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(1 + bodyLength);
  bytes[0] = type;
  return { bytes, view: new DataView(bytes.buffer) };
}

function dataFrame(type: number, data: Uint8Array, what: string): Uint8Array {
  if (!(data instanceof Uint8Array)) throw invalid(`${what} must be bytes.`);
  if (data.length === 0) throw invalid(`${what} is empty.`);
  if (data.length > MAX_TERMINAL_DATA_BYTES)
    throw invalid(`${what} of ${data.length} bytes is larger than ${MAX_TERMINAL_DATA_BYTES} bytes.`);
  const { bytes } = frame(type, data.length);
  bytes.set(data, 1);
  return bytes;
}

function checkSize(size: unknown): TerminalSize {
  const parsed = terminalSizeSchema.safeParse(size);
  if (!parsed.success)
    throw invalid(
      `a terminal size must be whole numbers of columns and rows from 1 to ${MAX_TERMINAL_DIMENSION}.`,
    );
  return parsed.data;
}

export function encodeTerminalClientFrame(f: TerminalClientFrame): Uint8Array {
  if (f.type === 'input') return dataFrame(frameTypes.input, f.data, 'input');
  if (f.type === 'resize') {
    const { cols, rows } = checkSize({ cols: f.cols, rows: f.rows });
    const { bytes, view } = frame(frameTypes.resize, 4);
    view.setUint16(1, cols);
    view.setUint16(3, rows);
    return bytes;
  }
  throw invalid(`"${String((f as { type?: unknown }).type)}" is not a frame a terminal client sends.`);
}

export function encodeTerminalAgentFrame(f: TerminalAgentFrame): Uint8Array {
  if (f.type === 'output') return dataFrame(frameTypes.output, f.data, 'output');
  if (f.type === 'exit') return encodeExit(f.exitCode, f.signal);
  if (f.type === 'error') return encodeError(f.code, f.message);
  throw invalid(`"${String((f as { type?: unknown }).type)}" is not a frame the agent sends.`);
}

// exit: flags (1 = has code, 2 = has signal), int32 code, then the signal name in ASCII.
function encodeExit(exitCode: number | null, signal: string | null): Uint8Array {
  if (exitCode !== null && !(Number.isInteger(exitCode) && exitCode >= -(2 ** 31) && exitCode < 2 ** 31))
    throw invalid('an exit code must be a 32-bit integer.');
  if (signal !== null && !/^[A-Z][A-Z0-9+]{0,31}$/.test(signal))
    throw invalid('a signal must be a name such as SIGHUP.');
  const name = utf8.encode(signal ?? '');
  const { bytes, view } = frame(frameTypes.exit, 5 + name.length);
  view.setUint8(1, (exitCode === null ? 0 : 1) | (signal === null ? 0 : 2));
  view.setInt32(2, exitCode ?? 0);
  bytes.set(name, 6);
  return bytes;
}

// error: code length, the code in ASCII, then the message in UTF-8.
function encodeError(code: ErrorCode, message: string): Uint8Array {
  if (!isErrorCode(code)) throw invalid(`"${String(code)}" is not an error code.`);
  const text = utf8.encode(message);
  if (text.length === 0 || text.length > MAX_TERMINAL_ERROR_MESSAGE_BYTES)
    throw invalid(`an error message must be 1 to ${MAX_TERMINAL_ERROR_MESSAGE_BYTES} bytes.`);
  const name = utf8.encode(code);
  const { bytes, view } = frame(frameTypes.error, 1 + name.length + text.length);
  view.setUint8(1, name.length);
  bytes.set(name, 2);
  bytes.set(text, 2 + name.length);
  return bytes;
}

function split(input: Uint8Array): { type: number; body: Uint8Array; view: DataView } {
  if (!(input instanceof Uint8Array)) throw invalid('a terminal frame must be binary.');
  if (input.length > MAX_TERMINAL_FRAME_BYTES)
    throw invalid(`${input.length} bytes is larger than the ${MAX_TERMINAL_FRAME_BYTES}-byte limit.`);
  if (input.length === 0) throw invalid('the frame is empty.');
  const body = input.subarray(1);
  return {
    type: input[0] as number,
    body,
    view: new DataView(body.buffer, body.byteOffset, body.byteLength),
  };
}

/** What the agent reads from a client. `data` is a view into `input`, not a copy. */
export function decodeTerminalClientFrame(input: Uint8Array): TerminalClientFrame {
  const { type, body, view } = split(input);
  if (type === frameTypes.input) {
    if (body.length === 0) throw invalid('input is empty.');
    return { type: 'input', data: body };
  }
  if (type === frameTypes.resize) {
    if (body.length !== 4) throw invalid(`a resize frame has 4 bytes after its type, not ${body.length}.`);
    return { type: 'resize', ...checkSize({ cols: view.getUint16(0), rows: view.getUint16(2) }) };
  }
  throw invalid(`type 0x${type.toString(16).padStart(2, '0')} is not a frame a terminal client sends.`);
}

/** What a client reads from the agent. `data` is a view into `input`, not a copy. */
export function decodeTerminalAgentFrame(input: Uint8Array): TerminalAgentFrame {
  const { type, body, view } = split(input);
  if (type === frameTypes.output) {
    if (body.length === 0) throw invalid('output is empty.');
    return { type: 'output', data: body };
  }
  if (type === frameTypes.exit) return decodeExit(body, view);
  if (type === frameTypes.error) return decodeError(body, view);
  throw invalid(`type 0x${type.toString(16).padStart(2, '0')} is not a frame the agent sends.`);
}

function decodeExit(body: Uint8Array, view: DataView): TerminalAgentFrame {
  if (body.length < 5 || body.length > 5 + MAX_SIGNAL_NAME_BYTES)
    throw invalid('an exit frame has the wrong length.');
  const flags = view.getUint8(0);
  if (flags > 3) throw invalid('an exit frame has unknown flags.');
  const name = body.subarray(5);
  if ((flags & 2) === 0 && name.length > 0) throw invalid('an exit frame without a signal names one.');
  if ((flags & 1) === 0 && view.getInt32(1) !== 0) throw invalid('an exit frame without a code carries one.');
  const signal = flags & 2 ? text(name, 'the signal name') : null;
  if (signal !== null && !/^[A-Z][A-Z0-9+]{0,31}$/.test(signal))
    throw invalid('an exit frame names no valid signal.');
  return { type: 'exit', exitCode: flags & 1 ? view.getInt32(1) : null, signal };
}

function decodeError(body: Uint8Array, view: DataView): TerminalAgentFrame {
  if (body.length < 1) throw invalid('an error frame is empty.');
  const codeLength = view.getUint8(0);
  if (codeLength === 0 || codeLength > MAX_ERROR_CODE_BYTES || body.length < 1 + codeLength + 1)
    throw invalid('an error frame has the wrong length.');
  const code = text(body.subarray(1, 1 + codeLength), 'the error code');
  if (!isErrorCode(code)) throw invalid(`"${code}" is not an error code.`);
  const messageBytes = body.subarray(1 + codeLength);
  if (messageBytes.length > MAX_TERMINAL_ERROR_MESSAGE_BYTES) throw invalid('an error message is too long.');
  return { type: 'error', code, message: text(messageBytes, 'the error message') };
}

function text(bytes: Uint8Array, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw invalid(`${what} is not valid UTF-8.`);
  }
}
