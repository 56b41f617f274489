// The chat benchmark's model provider: apps/daemon/test/ai/FakeModelProvider.ts (bundled by
// run.mjs to the file given as the first argument) in a process of its own. Every reply streams
// TEXT_CHUNKS text pieces, CHUNK_DELAY_MS apart (a model's pace); the first piece starts with the
// provider's clock (process.hrtime, CLOCK_MONOTONIC: the same clock in every process on the
// machine) when the reply began, so a client can tell how long the first token took to reach it.
// Prints `listening <url> <key>`; exits when run.mjs (its IPC parent) goes away.
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const bundle = process.argv[2];
if (!bundle) {
  process.stderr.write('usage: node fake-upstream.mjs <bundled FakeModelProvider.mjs>\n');
  process.exit(2);
}
const { startFakeModelProvider } = await import(pathToFileURL(bundle).href);

export const CHUNK_CHARS = 24;
const TEXT_CHUNKS = Number(process.env.BENCH_TEXT_CHUNKS ?? 20);
const CHUNK_DELAY_MS = Number(process.env.BENCH_CHUNK_DELAY_MS ?? 2);

/** `t<ns>|` padded to one chunk, then the rest of the reply. */
function reply() {
  const stamp = `t${process.hrtime.bigint()}|`.padEnd(CHUNK_CHARS, '.');
  const rest = 'x'.repeat(CHUNK_CHARS * (TEXT_CHUNKS - 1));
  return {
    text: stamp + rest,
    chunkChars: CHUNK_CHARS,
    chunkDelayMs: CHUNK_DELAY_MS,
    usage: { input: 30, output: 60 },
  };
}

const key = `sk-bench-${randomBytes(12).toString('hex')}`;
const fake = await startFakeModelProvider({ apiKey: key, maxRecorded: 0, defaultReply: reply });
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => fake.close().finally(() => process.exit(0)));
process.stdout.write(`listening ${fake.url} ${key}\n`);
