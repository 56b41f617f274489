// The gateway benchmark's upstream: apps/daemon/test/ai/FakeModelProvider.ts (bundled by run.mjs
// to the file given as the first argument) on a free loopback port, in a process of its own, so it
// shares an event loop with neither the load generator nor the daemon. It records nothing and
// answers every call from one reply (below); a last user message of "hang" gets a stream that
// sends its first two events and then stays open until the client goes away.
// Prints `listening <url> <key>`; exits when run.mjs (its IPC parent) goes away.
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const bundle = process.argv[2];
if (!bundle) {
  process.stderr.write('usage: node fake-upstream.mjs <bundled FakeModelProvider.mjs>\n');
  process.exit(2);
}
const { startFakeModelProvider } = await import(pathToFileURL(bundle).href);

/** The reply: 5 text deltas of 8 characters, so a stream is role + 5 deltas + finish + usage + [DONE]. */
export const REPLY = {
  text: 'Warren bench: a short streamed reply!!!!',
  chunkChars: 8,
  usage: { input: 21, output: 9 },
};
const HANG = { fault: 'hang', afterChunks: 2, reply: REPLY };

const lastUser = (body) => {
  const messages = Array.isArray(body?.messages) ? body.messages : [];
  const last = messages[messages.length - 1];
  return typeof last?.content === 'string' ? last.content : '';
};

const key = `sk-bench-${randomBytes(12).toString('hex')}`;
const fake = await startFakeModelProvider({
  apiKey: key,
  maxRecorded: 0,
  defaultReply: (request) => (lastUser(request.body) === 'hang' ? HANG : REPLY),
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => fake.close().finally(() => process.exit(0)));
process.stdout.write(`listening ${fake.url} ${key}\n`);
