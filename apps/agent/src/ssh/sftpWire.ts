import { sshString } from '@warren/core/node';
import type { SFTPWrapper } from 'ssh2';

/*
 * ssh2 (pinned at 1.17.0) lets a server answer EXTENDED requests with a STATUS, but it neither
 * lists extensions in its VERSION packet nor can send SSH_FXP_EXTENDED_REPLY, and its SFTP channel
 * has no exit(). Without the first, OpenSSH's sftp never sends posix-rename, hardlink, fsync or
 * statvfs; without the second, statvfs cannot be answered; without an exit status, scp reports
 * failure after every successful copy. The functions below reach into ssh2's channel state for
 * exactly that, and check the shape of what they touch first: if an ssh2 upgrade changes it, they
 * do nothing (clients fall back to plain SFTP v3) instead of corrupting the stream.
 */

interface ChannelInternals {
  outgoing: { id: number; window: number; packetSize: number; state: string };
  _protocol: { channelData(id: number, data: Buffer): void; exitStatus(id: number, status: number): void };
  _buffer: unknown[];
}

function internals(sftp: SFTPWrapper): ChannelInternals | undefined {
  const s = sftp as unknown as Partial<ChannelInternals>;
  const ok =
    typeof s.outgoing?.id === 'number' &&
    typeof s.outgoing.window === 'number' &&
    typeof s.outgoing.packetSize === 'number' &&
    typeof s._protocol?.channelData === 'function' &&
    typeof s._protocol.exitStatus === 'function' &&
    Array.isArray(s._buffer);
  return ok ? (s as ChannelInternals) : undefined;
}

const SSH_FXP_VERSION = 2;
const SSH_FXP_EXTENDED_REPLY = 201;
/** The VERSION packet ssh2 always sends: length 5, type VERSION, version 3, no extensions. */
const PLAIN_VERSION = Buffer.from([0, 0, 0, 5, SSH_FXP_VERSION, 0, 0, 0, 3]);

function packet(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length + 1);
  head[4] = type;
  return Buffer.concat([head, body]);
}

export function versionPacket(extensions: Record<string, string>): Buffer {
  const version = Buffer.from([0, 0, 0, 3]);
  const pairs = Object.entries(extensions).flatMap(([name, data]) => [sshString(name), sshString(data)]);
  return packet(SSH_FXP_VERSION, Buffer.concat([version, ...pairs]));
}

type ProtocolLike = ChannelInternals['_protocol'];
/** Per SSH connection: channel id -> the VERSION packet to send instead of ssh2's plain one. */
const pendingVersions = new WeakMap<
  ProtocolLike,
  Map<number, { channel: ChannelInternals; packet: Buffer }>
>();

function versionRewrites(protocol: ProtocolLike) {
  let rewrites = pendingVersions.get(protocol);
  if (rewrites) return rewrites;
  const table = new Map<number, { channel: ChannelInternals; packet: Buffer }>();
  const original = protocol.channelData;
  // One pass-through wrapper per connection, left in place: it must outlive any one SFTP channel,
  // and restoring it from one channel would drop another channel's pending rewrite.
  protocol.channelData = function channelData(this: ProtocolLike, id: number, data: Buffer) {
    const pending = table.get(id);
    if (pending && data.equals(PLAIN_VERSION)) {
      table.delete(id);
      // ssh2 already took PLAIN_VERSION.length from the window; take the difference too, so the
      // peer never receives more than the window it granted.
      const extra = pending.packet.length - PLAIN_VERSION.length;
      if (
        pending.channel.outgoing.window >= extra &&
        pending.packet.length <= pending.channel.outgoing.packetSize
      ) {
        pending.channel.outgoing.window -= extra;
        return original.call(this, id, pending.packet);
      }
    }
    return original.call(this, id, data);
  };
  rewrites = table;
  pendingVersions.set(protocol, rewrites);
  return rewrites;
}

/**
 * Makes the VERSION reply to this channel's INIT list `extensions`. Call before the client's INIT
 * arrives (right after accepting the subsystem). Returns false when ssh2's internals are not as expected.
 */
export function advertiseExtensions(sftp: SFTPWrapper, extensions: Record<string, string>): boolean {
  const channel = internals(sftp);
  if (!channel) return false;
  const table = versionRewrites(channel._protocol);
  const id = channel.outgoing.id;
  table.set(id, { channel, packet: versionPacket(extensions) });
  // Channel ids are reused after close; a session that never sent INIT must not leave its rewrite behind.
  sftp.once('close', () => {
    if (table.get(id)?.channel === channel) table.delete(id);
  });
  return true;
}

/**
 * Sends SSH_FXP_EXTENDED_REPLY. It only sends when nothing of ssh2's is queued and the window has room
 * (so packets never interleave and flow control holds) and returns false otherwise; the caller then
 * answers with a STATUS through ssh2's own path, which queues properly.
 */
export function sendExtendedReply(sftp: SFTPWrapper, reqId: number, body: Buffer): boolean {
  const channel = internals(sftp);
  if (channel?.outgoing.state !== 'open' || channel._buffer.length > 0) return false;
  const id = Buffer.alloc(4);
  id.writeUInt32BE(reqId);
  const reply = packet(SSH_FXP_EXTENDED_REPLY, Buffer.concat([id, body]));
  if (channel.outgoing.window < reply.length || reply.length > channel.outgoing.packetSize) return false;
  channel.outgoing.window -= reply.length;
  channel._protocol.channelData(channel.outgoing.id, reply);
  return true;
}

/**
 * Sends the session channel's exit-status, as sshd does when its sftp-server exits: OpenSSH's scp
 * treats a session that closes without one as failed. Only while the channel is still open.
 */
export function sendExitStatus(sftp: SFTPWrapper, status: number): void {
  const channel = internals(sftp);
  if (channel?.outgoing.state === 'open') channel._protocol.exitStatus(channel.outgoing.id, status);
}

/** Reads the SSH strings an EXTENDED request carries; undefined when the payload is malformed. */
export function readStrings(data: Buffer | undefined, count: number): Buffer[] | undefined {
  if (!data) return count === 0 ? [] : undefined;
  const out: Buffer[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > data.length) return undefined;
    const len = data.readUInt32BE(offset);
    offset += 4;
    if (offset + len > data.length) return undefined;
    out.push(data.subarray(offset, offset + len));
    offset += len;
  }
  return out;
}
