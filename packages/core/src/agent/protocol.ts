import { z } from 'zod';
import { WarrenError } from '../errors/WarrenError';
import { agentSpecSchema } from '../templates/manifest';
import { wireguardEndpointSchema } from '../wireguard/addressSyntax';
import { forwardTicketSchema } from '../wireguard/forwardHeader';
import { wireguardNetworkMapSchema } from '../wireguard/networkMap';
import { wireguardKeySchema } from '../wireguard/wireguardKey';
import { terminalAttachSchema, terminalSizeSchema } from './terminalFrames';

/**
 * The agent <-> daemon protocol on the agent WebSocket (`/api/v2/agents/connect`): one JSON
 * object per text frame, told apart by `type`. The agent opens with `hello`; the daemon answers
 * with `manifest`, again on every reconnect. Unknown types and unknown fields are rejected.
 */

/** Frames larger than this are refused before any parsing, on both sides. */
export const MAX_AGENT_FRAME_BYTES = 1024 * 1024;
/** A logs frame carries at most this many lines, each at most this many characters. */
export const MAX_LOG_LINES_PER_FRAME = 1000;
export const MAX_LOG_LINE_CHARS = 16 * 1024;
/** An SSH public key in OpenSSH form is far shorter than this (an RSA-16384 key is ~2.8 KB). */
export const MAX_SSH_KEY_CHARS = 8192;

/** Where clients open tunnels; the daemon serves these paths, the CLI and desktop dial them. */
export const TUNNEL_SSH_PATH = '/api/v2/tunnels/ssh';
export const TUNNEL_TERMINAL_PATH = '/api/v2/tunnels/terminal';
/** The client's SSH public key (OpenSSH form) for the one connection it opens. */
export const CLIENT_KEY_HEADER = 'x-warren-ssh-key';
/**
 * The stream id an agent dials to keep one stream socket ready in advance. A standby serves SSH
 * only, and the agent starts SSH on it at once: its ident and KEXINIT (binary, at most 16 KiB)
 * wait at the daemon for the client that takes it. The daemon's `stream` frame, the one text
 * frame a standby carries, then gives it the client key before any of the client's bytes.
 */
export const STANDBY_STREAM_ID = 'standby';

export const agentLifecycleStates = [
  'created',
  'starting',
  'ready',
  'start_error',
  'shutting_down',
  'off',
] as const;
export type AgentLifecycleState = (typeof agentLifecycleStates)[number];

export const agentLogSources = ['startup_script', 'shutdown_script', 'agent'] as const;
export type AgentLogSource = (typeof agentLogSources)[number];

const shortText = (max: number) => z.string().max(max);

/**
 * One SSH public key in OpenSSH form on one line (`ssh-ed25519 AAAA...`): what agents report as
 * their host key and clients present, and what ends up in a known_hosts file, so nothing else may.
 */
export const sshPublicKeySchema = z
  .string()
  .max(MAX_SSH_KEY_CHARS)
  .regex(
    /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,2}$/,
    'is not an OpenSSH public key (TYPE BASE64 on one line)',
  );

export const agentLogLineSchema = z
  .object({
    /** Milliseconds since the epoch, as the agent saw the line. */
    time: z.number().int().min(0).max(8.64e15),
    line: shortText(MAX_LOG_LINE_CHARS),
  })
  .strict();
export type AgentLogLine = z.infer<typeof agentLogLineSchema>;

const helloFrame = z
  .object({
    type: z.literal('hello'),
    version: shortText(64),
    os: shortText(64),
    arch: shortText(64),
    hostname: shortText(255),
    /** The agent's SSH host key in OpenSSH form (`ssh-ed25519 AAAA...`); the daemon pins it. */
    sshHostKey: sshPublicKeySchema.optional(),
  })
  .strict();

const lifecycleFrame = z
  .object({ type: z.literal('lifecycle'), state: z.enum(agentLifecycleStates) })
  .strict();

const logsFrame = z
  .object({
    type: z.literal('logs'),
    source: z.enum(agentLogSources),
    lines: z.array(agentLogLineSchema).min(1).max(MAX_LOG_LINES_PER_FRAME),
  })
  .strict();

const manifestFrame = z
  .object({
    type: z.literal('manifest'),
    agentId: shortText(128).min(1),
    startupScript: agentSpecSchema.shape.startupScript,
    shutdownScript: agentSpecSchema.shape.shutdownScript,
    scriptTimeoutMs: z
      .number()
      .int()
      .positive()
      .max(7 * 86_400_000),
    apps: agentSpecSchema.shape.apps,
    metadata: agentSpecSchema.shape.metadata,
    /** The daemon runs WireGuard mode: start a device if this host allows it, then register it. */
    wireguard: z.boolean().optional(),
  })
  .strict();

/** Ids of requests and streams: the daemon picks them; 1-64 URL-safe characters. */
const frameId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be 1-64 letters, digits, "-" or "_"');

/** The daemon asks the agent to run one operation (see ./operations) and answer with `response`. */
const requestFrame = z
  .object({ type: z.literal('request'), id: frameId, op: shortText(64).min(1), params: z.unknown() })
  .strict();

/** The daemon no longer wants the answer (its caller went away or timed out). */
const cancelFrame = z.object({ type: z.literal('cancel'), id: frameId }).strict();

/** The answer to a request: `result` on success, else `error` with a WarrenError code and a sentence. */
const responseFrame = z
  .object({
    type: z.literal('response'),
    id: frameId,
    result: z.unknown().optional(),
    error: z
      .object({ code: shortText(64), message: shortText(4096) })
      .strict()
      .optional(),
  })
  .strict()
  .refine((frame) => (frame.error === undefined) !== (frame.result === undefined), {
    message: 'a response carries exactly one of result and error',
  });

export const appHealthStates = ['disabled', 'initializing', 'healthy', 'unhealthy'] as const;
export type AppHealth = (typeof appHealthStates)[number];
/** A metadata value as shown on the workspace page: one short line or a few. */
export const MAX_METADATA_VALUE_CHARS = 1024;

/** What the agent sees of its workspace now: the template's metadata values and its apps' health. */
const statusFrame = z
  .object({
    type: z.literal('status'),
    metadata: z
      .array(
        z
          .object({
            key: shortText(64).min(1),
            value: shortText(MAX_METADATA_VALUE_CHARS),
            error: shortText(MAX_METADATA_VALUE_CHARS).optional(),
            collectedAt: z.number().int().min(0).max(8.64e15),
          })
          .strict(),
      )
      .max(100),
    apps: z
      .array(z.object({ slug: shortText(64).min(1), health: z.enum(appHealthStates) }).strict())
      .max(100),
  })
  .strict();
export type AgentStatusFrame = z.infer<typeof statusFrame>;

export const agentStreamKinds = ['ssh', 'terminal'] as const;
export type AgentStreamKind = (typeof agentStreamKinds)[number];

/**
 * The terminal a `terminal` stream serves, in the agent's own attach shapes (terminalFrames.ts),
 * so every request the daemon accepts is one the agent accepts too.
 */
export const agentStreamTerminalSchema = z
  .object({
    session: terminalAttachSchema.shape.id,
    cols: terminalSizeSchema.shape.cols,
    rows: terminalSizeSchema.shape.rows,
    command: terminalAttachSchema.shape.command,
  })
  .strict();
export type AgentStreamTerminal = z.infer<typeof agentStreamTerminalSchema>;

/**
 * The daemon asks the agent to dial `/api/v2/agents/streams/<id>` (with its agent token) and
 * serve one byte stream there, which the daemon splices to a client's socket:
 * - `ssh`: an SSH connection to the agent's server, which accepts only `clientKey` (the key
 *   the client presented when it opened the tunnel), so a stream is good for one user once;
 * - `terminal`: the reconnecting terminal `terminal.session`, in terminal frames.
 */
const streamFrame = z
  .object({
    type: z.literal('stream'),
    id: frameId,
    kind: z.enum(agentStreamKinds),
    clientKey: shortText(MAX_SSH_KEY_CHARS).optional(),
    terminal: agentStreamTerminalSchema.optional(),
  })
  .strict()
  .refine((frame) => (frame.kind === 'ssh' ? frame.clientKey !== undefined : frame.terminal !== undefined), {
    message: 'an ssh stream needs clientKey and a terminal stream needs terminal',
  });

/**
 * WireGuard mode (see apps/daemon/src/tunnels/wireguard/WireguardCoordinator.ts). The agent
 * registers its device's public key and UDP port (the daemon adds the address it sees the agent
 * at unless `endpoint` says otherwise), applies every `wireguard_map`, and acknowledges each
 * version it applied, so clients are told of the agent only once it will accept their handshake.
 */
const wireguardRegisterFrame = z
  .object({
    type: z.literal('wireguard_register'),
    publicKey: wireguardKeySchema,
    listenPort: z.int().min(1).max(65535),
    endpoint: wireguardEndpointSchema.optional(),
  })
  .strict();
const wireguardAckFrame = z.object({ type: z.literal('wireguard_ack'), version: z.int().min(0) }).strict();
const wireguardMapFrame = z
  .object({ type: z.literal('wireguard_map'), map: wireguardNetworkMapSchema })
  .strict();
/** Longest grant the daemon hands out: a client connects right after it asked for one. */
export const MAX_WIREGUARD_GRANT_SECONDS = 300;
/**
 * Accept one SSH connection over WireGuard from the peer with this WireGuard key, authenticated
 * with `clientKey`, if it starts within `seconds`: the relay's per-connection key, for WireGuard.
 */
const wireguardAcceptFrame = z
  .object({
    type: z.literal('wireguard_accept'),
    peer: wireguardKeySchema,
    clientKey: shortText(MAX_SSH_KEY_CHARS).min(1),
    seconds: z.int().min(1).max(MAX_WIREGUARD_GRANT_SECONDS),
  })
  .strict();

/**
 * Accept port forwards over WireGuard from the peer with this WireGuard key that present `ticket`
 * (see wireguard/forwardHeader), opened within `seconds`: the SSH grant's counterpart for plain
 * TCP. Like a grant it ends early when the peer leaves the agent's map.
 */
const wireguardTicketFrame = z
  .object({
    type: z.literal('wireguard_ticket'),
    peer: wireguardKeySchema,
    ticket: forwardTicketSchema,
    seconds: z.int().min(1).max(MAX_WIREGUARD_GRANT_SECONDS),
  })
  .strict();

/** Run the shutdown script, report shutting_down then off, and exit. */
const shutdownFrame = z.object({ type: z.literal('shutdown') }).strict();

const toDaemonFrames = [
  helloFrame,
  lifecycleFrame,
  logsFrame,
  responseFrame,
  statusFrame,
  wireguardRegisterFrame,
  wireguardAckFrame,
] as const;
const toAgentFrames = [
  manifestFrame,
  shutdownFrame,
  requestFrame,
  cancelFrame,
  streamFrame,
  wireguardMapFrame,
  wireguardAcceptFrame,
  wireguardTicketFrame,
] as const;
export const agentToDaemonFrameSchema = z.discriminatedUnion('type', [...toDaemonFrames]);
export const daemonToAgentFrameSchema = z.discriminatedUnion('type', [...toAgentFrames]);
export const agentFrameSchema = z.discriminatedUnion('type', [...toDaemonFrames, ...toAgentFrames]);

export type AgentToDaemonFrame = z.infer<typeof agentToDaemonFrameSchema>;
export type DaemonToAgentFrame = z.infer<typeof daemonToAgentFrameSchema>;
export type AgentFrame = z.infer<typeof agentFrameSchema>;
export type AgentHelloFrame = z.infer<typeof helloFrame>;
export type AgentManifestFrame = z.infer<typeof manifestFrame>;
export type AgentRequestFrame = z.infer<typeof requestFrame>;
export type AgentResponseFrame = z.infer<typeof responseFrame>;
export type AgentStreamFrame = z.infer<typeof streamFrame>;
export type AgentWireguardRegisterFrame = z.infer<typeof wireguardRegisterFrame>;
export type AgentWireguardAcceptFrame = z.infer<typeof wireguardAcceptFrame>;
export type AgentWireguardTicketFrame = z.infer<typeof wireguardTicketFrame>;

/** Which side a frame travels to; decoding for a direction rejects the other side's frames. */
export type AgentFrameDirection = 'to-daemon' | 'to-agent';

const schemas = {
  'to-daemon': agentToDaemonFrameSchema,
  'to-agent': daemonToAgentFrameSchema,
  any: agentFrameSchema,
} as const;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 length of `text`, without encoding it when its length alone decides. */
function exceedsFrameLimit(text: string): boolean {
  if (text.length > MAX_AGENT_FRAME_BYTES) return true;
  if (text.length * 3 <= MAX_AGENT_FRAME_BYTES) return false;
  return utf8Encoder.encode(text).byteLength > MAX_AGENT_FRAME_BYTES;
}

function tooLarge(): WarrenError {
  return new WarrenError(
    'INVALID_INPUT',
    `An agent frame is larger than the ${MAX_AGENT_FRAME_BYTES / 1024} KiB limit.`,
  );
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'it does not match the protocol';
  const where = issue.path.length ? issue.path.join('.') : 'the frame';
  return `${where}: ${issue.message}`;
}

/** A frame as JSON text; throws INVALID_INPUT if it does not match the protocol or is too large. */
export function encodeAgentFrame(frame: AgentFrame): string {
  const parsed = agentFrameSchema.safeParse(frame);
  if (!parsed.success)
    throw new WarrenError('INVALID_INPUT', `Not a valid agent frame (${describeIssue(parsed.error)}).`);
  const text = JSON.stringify(parsed.data);
  if (exceedsFrameLimit(text)) throw tooLarge();
  return text;
}

/**
 * Parses one text frame. The size is checked before the JSON is parsed, so a huge frame costs
 * nothing; anything that is not a valid frame throws WarrenError('INVALID_INPUT') and nothing else.
 */
export function decodeAgentFrame(raw: string | Uint8Array, direction: 'to-daemon'): AgentToDaemonFrame;
export function decodeAgentFrame(raw: string | Uint8Array, direction: 'to-agent'): DaemonToAgentFrame;
export function decodeAgentFrame(raw: string | Uint8Array, direction?: AgentFrameDirection): AgentFrame;
export function decodeAgentFrame(raw: string | Uint8Array, direction?: AgentFrameDirection): AgentFrame {
  let text: string;
  if (typeof raw === 'string') {
    if (exceedsFrameLimit(raw)) throw tooLarge();
    text = raw;
  } else {
    if (raw.byteLength > MAX_AGENT_FRAME_BYTES) throw tooLarge();
    try {
      text = utf8Decoder.decode(raw);
    } catch {
      throw new WarrenError('INVALID_INPUT', 'An agent frame is not valid UTF-8 text.');
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new WarrenError('INVALID_INPUT', 'An agent frame is not valid JSON.');
  }
  const parsed = schemas[direction ?? 'any'].safeParse(value);
  if (!parsed.success) {
    const type = (value as { type?: unknown } | null)?.type;
    const what = typeof type === 'string' && type.length > 0 ? `"${type.slice(0, 32)}" frame` : 'frame';
    throw new WarrenError('INVALID_INPUT', `Not a valid agent ${what} (${describeIssue(parsed.error)}).`);
  }
  return parsed.data;
}
