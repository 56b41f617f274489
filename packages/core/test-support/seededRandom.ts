/**
 * Deterministic randomness for fuzz tests (mulberry32), so a failure replays from its seed, and
 * the two ways the fuzzers use it: bytes mutated from a valid example, and a stream cut at
 * random places.
 */
export interface SeededRandom {
  /** In [0, 1). */
  next(): number;
  /** In [0, below). */
  int(below: number): number;
  pick<T>(items: readonly T[]): T;
}

export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (below: number) => Math.floor(next() * below);
  return { next, int, pick: <T>(items: readonly T[]) => items[int(items.length)] as T };
}

/** `bytes` with `edits` random single-byte changes: a byte dropped, inserted or replaced. */
export function mutateBytes(r: SeededRandom, bytes: Uint8Array, edits: number): Uint8Array {
  const out = [...bytes];
  for (let i = edits; i > 0; i--) {
    const at = r.int(out.length + 1);
    const op = r.int(3);
    if (op === 0) out.splice(at, 1);
    else if (op === 1) out.splice(at, 0, r.int(256));
    else out[at] = r.int(256);
  }
  return Uint8Array.from(out);
}

/** `all` cut into chunks of 1 to 40 bytes, tiny ones (1 to 3) often. */
export function splitRandomly<T extends Uint8Array>(all: T, next: () => number): T[] {
  const chunks: T[] = [];
  for (let at = 0; at < all.length; ) {
    const size = 1 + Math.floor(next() * (next() < 0.3 ? 3 : 40));
    chunks.push(all.subarray(at, at + size) as T);
    at += size;
  }
  return chunks;
}
