import type { Dir } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { WarrenError } from '@warren/core';

export interface OpenFile {
  kind: 'file';
  path: string;
  fh: FileHandle;
}

export interface OpenDir {
  kind: 'dir';
  path: string;
  dir: Dir;
  /** `.` and `..` go out with the first batch, as OpenSSH's readdir(3) returns them. */
  dotsSent: boolean;
  done: boolean;
}

export type OpenHandle = OpenFile | OpenDir;

const notOpen = () => new WarrenError('INVALID_INPUT', 'The handle is not open in this SFTP session.');

/**
 * The files and directories one SFTP session holds open. Handles on the wire are opaque 4-byte
 * counters: never reused within a session, so a stale handle from a closed file cannot reach a new one.
 */
export class SftpHandles {
  readonly #open = new Map<number, OpenHandle>();
  #next = 1;
  #closing: Promise<void> | undefined;

  get size(): number {
    return this.#open.size;
  }

  /**
   * Registers an opened file or directory and returns its wire handle. After the session ended the
   * resource is closed at once instead: an OPEN that finished after the client left must not leak.
   */
  async add(handle: OpenHandle): Promise<Buffer> {
    if (this.#closing) {
      await closeResource(handle);
      throw new WarrenError('UNAVAILABLE', 'The SFTP session has ended.');
    }
    const id = this.#next++;
    this.#open.set(id, handle);
    const wire = Buffer.alloc(4);
    wire.writeUInt32BE(id);
    return wire;
  }

  file(wire: Buffer): OpenFile {
    const handle = this.#lookup(wire);
    if (handle.kind !== 'file')
      throw new WarrenError('INVALID_INPUT', `${handle.path} is a directory handle.`);
    return handle;
  }

  dir(wire: Buffer): OpenDir {
    const handle = this.#lookup(wire);
    if (handle.kind !== 'dir')
      throw new WarrenError('INVALID_INPUT', `${handle.path} is not a directory handle.`);
    return handle;
  }

  /** The path a handle was opened with, for error messages. */
  path(wire: Buffer): string {
    return this.#lookup(wire).path;
  }

  /** Forgets the handle at once (later requests on it fail) and closes what it held. */
  async close(wire: Buffer): Promise<void> {
    const handle = this.#lookup(wire);
    this.#open.delete(wire.readUInt32BE());
    await closeResource(handle);
  }

  /** Closes everything when the session ends; every caller waits for the same closing. */
  closeAll(): Promise<void> {
    this.#closing ??= (async () => {
      const handles = [...this.#open.values()];
      this.#open.clear();
      await Promise.allSettled(handles.map(closeResource));
    })();
    return this.#closing;
  }

  #lookup(wire: Buffer): OpenHandle {
    const handle = wire.length === 4 ? this.#open.get(wire.readUInt32BE()) : undefined;
    if (!handle) throw notOpen();
    return handle;
  }
}

async function closeResource(handle: OpenHandle): Promise<void> {
  if (handle.kind === 'file') await handle.fh.close();
  else await handle.dir.close();
}
