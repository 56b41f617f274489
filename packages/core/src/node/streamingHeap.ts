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
