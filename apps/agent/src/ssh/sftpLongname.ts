import fs, { constants as C, type Stats } from 'node:fs';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const FILE_TYPES = new Map<number, string>([
  [C.S_IFDIR, 'd'],
  [C.S_IFLNK, 'l'],
  [C.S_IFCHR, 'c'],
  [C.S_IFBLK, 'b'],
  [C.S_IFIFO, 'p'],
  [C.S_IFSOCK, 's'],
]);
const SIX_MONTHS_MS = ((365 * 24 * 60 * 60) / 2) * 1000;

/** `ls -l`'s ten-character mode column, e.g. `drwxr-sr-t`. */
export function modeString(mode: number): string {
  const type = mode & C.S_IFMT;
  // A Map with fs.constants, not an object literal: numeric object keys are easy to get wrong
  // (biome's useSimpleNumberKeys fix rewrote octal keys here to wrong decimals).
  const kind = FILE_TYPES.get(type) ?? '-';
  const triple = (shift: number, special: number, specialChar: string) => {
    const bits = (mode >> shift) & 7;
    const exec = bits & 1;
    const x = mode & special ? (exec ? specialChar : specialChar.toUpperCase()) : exec ? 'x' : '-';
    return `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${x}`;
  };
  return kind + triple(6, 0o4000, 's') + triple(3, 0o2000, 's') + triple(0, 0o1000, 't');
}

/** `ls -l`'s date column: time of day for the last six months, the year for anything older or in the future. */
function dateColumn(mtimeMs: number, nowMs: number): string {
  const d = new Date(mtimeMs);
  const day = String(d.getDate()).padStart(2, ' ');
  const recent = mtimeMs <= nowMs && nowMs - mtimeMs < SIX_MONTHS_MS;
  const tail = recent
    ? `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`
    : ` ${d.getFullYear()}`;
  return `${MONTHS[d.getMonth()]} ${day} ${tail}`;
}

/** User and group names by id, read once from /etc/passwd and /etc/group; ids without a name print as numbers. */
export class OwnerNames {
  #loaded: Promise<{ users: Map<number, string>; groups: Map<number, string> }> | undefined;

  constructor(
    private readonly passwdFile = '/etc/passwd',
    private readonly groupFile = '/etc/group',
  ) {}

  async lookup(uid: number, gid: number): Promise<{ user: string; group: string }> {
    this.#loaded ??= Promise.all([readIdFile(this.passwdFile), readIdFile(this.groupFile)]).then(
      ([users, groups]) => ({ users, groups }),
    );
    const { users, groups } = await this.#loaded;
    return { user: users.get(uid) ?? String(uid), group: groups.get(gid) ?? String(gid) };
  }
}

/** name:x:id:... lines to id -> name; a missing or unreadable file (macOS, a minimal image) gives no names. */
async function readIdFile(file: string): Promise<Map<number, string>> {
  const names = new Map<number, string>();
  const text = await fs.promises.readFile(file, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    const n = Number(id);
    if (name && id && Number.isInteger(n) && !names.has(n)) names.set(n, name);
  }
  return names;
}

/**
 * The `longname` of a READDIR entry, in the layout of OpenSSH's sftp-server (ls_file), because
 * OpenSSH's `sftp ls -l` prints it verbatim:
 * `-rw-r--r--    1 alice    staff        1024 Mar  4 12:30 notes.txt`
 */
export function longname(
  name: string,
  stats: Stats,
  owner: { user: string; group: string },
  nowMs = Date.now(),
): string {
  const user = owner.user.padEnd(8, ' ');
  const group = owner.group.padEnd(8, ' ');
  const links = String(stats.nlink).padStart(3, ' ');
  const size = String(stats.size).padStart(8, ' ');
  return `${modeString(stats.mode)}  ${links} ${user} ${group} ${size} ${dateColumn(stats.mtimeMs, nowMs)} ${name}`;
}
