import v8 from 'node:v8';

let applied = false;

/**
 * Tunes V8's garbage collector for a process that carries bulk byte streams (the relay, the
 * workspace agent, `warren port-forward`): call it first thing in the process.
 *
 * Every socket read, WebSocket frame and cipher output is a fresh ArrayBuffer, so a relayed
 * transfer allocates several times its own size in ArrayBuffers. V8 counts their bytes as
 * external memory and starts a full mark-compact whenever that count rises 64 MB above its low
 * point since the last one. By default it frees the ArrayBuffers of dead young objects on a
 * background thread and lowers the count only when that sweep finishes, so under bulk load the
 * count ran ahead of what was really alive. Once an idle spell had reset the low point, the
 * agent fell into a mark-compact every 50 ms (40 a second, none before), reads shrank from
 * 61 to 20-30 KiB and its CPU per GiB doubled, and stayed so: the relay's "slow mode" in
 * bench/tunnel/README.md. Sweeping on the main thread, during the scavenge itself, keeps the
 * count true; it costs that thread well under a millisecond per scavenge.
 */
export function tuneHeapForStreaming(): void {
  if (applied) return;
  applied = true;
  // The flag is V8's (Node 20's V8 11.3 and later); an engine without it would print a warning.
  if (Number.parseInt(process.versions.v8, 10) >= 11)
    v8.setFlagsFromString('--no-concurrent-array-buffer-sweeping');
}

/**
 * glibc's malloc settings for a process that streams (the workspace agent): allocations up to
 * 4 MiB come from the heap rather than fresh mmap()s, and freed memory stays with the process up
 * to 128 MiB instead of going back to the kernel at once. A relayed transfer allocates and frees
 * tens of 64-256 KiB buffers per MB; by default each one above glibc's mmap threshold was mapped,
 * touched and unmapped, and the heap was trimmed as soon as a GC freed its top. On VMs whose
 * memory the host backs lazily and takes back when free (Firecracker with free page reporting,
 * as in this project's CI), a first touch costs about 13 us a page here against about 2 us for a
 * page the guest reuses: with these settings the relay carried about a quarter more per CPU
 * second (bench/tunnel/README.md). glibc reads them only at process start, from the environment;
 * musl, macOS and Windows ignore them.
 */
export const STREAMING_GLIBC_TUNABLES =
  'glibc.malloc.mmap_threshold=4194304:glibc.malloc.trim_threshold=134217728';

/** Set beside GLIBC_TUNABLES when Warren put it there, not the user or the template. */
export const STREAMING_MALLOC_MARKER = 'WARREN_MALLOC_TUNED';

/**
 * The environment to add for a streaming process started with `env`: the tunables, unless `env`
 * already says something about glibc's tunables (then it is the user's choice and stays).
 */
export function streamingMallocEnv(env: NodeJS.ProcessEnv | Record<string, string>): Record<string, string> {
  if (env.GLIBC_TUNABLES !== undefined) return {};
  return { GLIBC_TUNABLES: STREAMING_GLIBC_TUNABLES, [STREAMING_MALLOC_MARKER]: '1' };
}

/**
 * In a process started with streamingMallocEnv(): glibc has read the tunables, so they leave its
 * environment, and the shells, scripts and commands it starts run with malloc as the user has it.
 */
export function forgetStreamingMallocEnv(env: NodeJS.ProcessEnv = process.env): void {
  if (env[STREAMING_MALLOC_MARKER] !== '1') return;
  delete env.GLIBC_TUNABLES;
  delete env[STREAMING_MALLOC_MARKER];
}
