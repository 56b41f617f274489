/** SSH's `string` (RFC 4251 section 5): a uint32 length, then the bytes; text is UTF-8. */
export function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([sshUint32(bytes.length), bytes]);
}

/** SSH's `uint32`: four bytes, most significant first. */
export function sshUint32(value: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(value, 0);
  return out;
}
