#!/usr/bin/env node
// Chat benchmark: what Warren's chat loop adds on top of a model provider, against a local fake
// provider (fake-upstream.mjs) that streams a reply at a model's pace, in one run:
//   raw      a streaming chat completion straight from the provider, read by a bare client;
//   chat     the same reply as a chat turn: chats.send, the daemon's loop (AI SDK streamText)
//            calling the provider through the in-process gateway, deltas to a chats.watch
//            subscription (SSE), ended when the client sees the assistant message done.
// For each: the time from the provider's first token to the client's first text (the provider
// stamps its clock, CLOCK_MONOTONIC, into the first token), and the whole turn; one at a time,
// then CONCURRENT chats at once (and as many raw streams at once).
// Run from the repository root: `pnpm bench:chat`. Progress goes to stderr, the table to stdout.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { integer, matching, parseArgs } from '../lib/args.mjs';
import { bundleTypeScript } from '../lib/bundle.mjs';
import { runBench } from '../lib/cleanup.mjs';
import {
  DAEMON_BIN,
  DAEMON_DIR,
  ensureBuilt,
  signInFirstUser,
  startDaemon,
  startServer,
  trpc,
} from '../lib/daemon.mjs';
import { log } from '../lib/log.mjs';
import { formatTable, loadAverage, loadLine, machineLine } from '../lib/report.mjs';
import { median, percentile } from '../lib/stats.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FAKE_SERVER = path.join(HERE, 'fake-upstream.mjs');
const FAKE_SOURCE = path.join(DAEMON_DIR, 'test', 'ai', 'FakeModelProvider.ts');
const MODEL = 'gpt-4.1-mini';

const USAGE = `Usage: pnpm bench:chat [-- options]

  --turns N        measured turns one at a time, per path (default 40)
  --concurrent N   chats (and raw streams) at once in the concurrent run (default 50)
  --build          rebuild apps/daemon/dist first
  --cpu-prof DIR   run the daemon under node --cpu-prof, writing its profile into DIR
`;

const now = () => Number(process.hrtime.bigint()) / 1e6;

/** The provider's clock (ms) when its reply began, from the `t<ns>|` stamp in the first text. */
function stampOf(text) {
  const match = /^t(\d+)\|/.exec(text);
  return match ? Number(BigInt(match[1])) / 1e6 : Number.NaN;
}

// ---------------------------------------------------------------------------------------------
// The raw path: a bare streaming request to the provider.

async function rawTurn(fake) {
  const started = now();
  const response = await fetch(`${fake.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${fake.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'Bench.' }] }),
  });
  if (!response.ok) throw new Error(`The provider answered ${response.status}.`);
  const decoder = new TextDecoder();
  let buffered = '';
  let firstAt;
  let stamp;
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk, { stream: true });
    if (firstAt === undefined) {
      const match = /"content":"(t\d+\|)/.exec(buffered);
      if (match) {
        firstAt = now();
        stamp = stampOf(match[1]);
      }
    }
  }
  if (!buffered.includes('[DONE]')) throw new Error('The provider stream ended early.');
  return { firstToken: firstAt - stamp, total: now() - started };
}

// ---------------------------------------------------------------------------------------------
// The chat path: a subscription read as the tRPC SSE link reads it.

/** Opens chats.watch; calls onEvent(value) for each event; resolves once the snapshot arrived. */
function watchChat(daemon, token, chatId, onEvent) {
  const input = encodeURIComponent(JSON.stringify({ chatId }));
  return new Promise((resolve, reject) => {
    const request = http.get(`${daemon.url}/api/trpc/chats.watch?input=${input}`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
    });
    request.once('error', reject);
    request.once('response', (response) => {
      if (response.statusCode !== 200)
        return reject(new Error(`chats.watch answered ${response.statusCode}.`));
      response.setEncoding('utf8');
      let buffered = '';
      response.on('data', (chunk) => {
        buffered += chunk;
        for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = block
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('\n');
          if (!data || !/(^|\n)(event: ?message|data:)/.test(block) || /event: ?(connected|ping)/.test(block))
            continue;
          const value = JSON.parse(data);
          if (value?.type === 'snapshot') resolve(() => request.destroy());
          onEvent(value);
        }
      });
    });
  });
}

/**
 * A fresh chat with a client watching it; `go()` sends the message and resolves with the turn's
 * times, the clock starting when chats.send is called.
 */
async function prepareChatTurn(daemon, token) {
  const headers = { authorization: `Bearer ${token}` };
  const chat = await trpc(daemon.url, 'POST', 'chats.create', {
    input: { model: `openai/${MODEL}`, title: 'bench' },
    headers,
  });
  let firstToken;
  let done;
  const finished = new Promise((resolve, reject) => {
    done = { resolve, reject };
  });
  const close = await watchChat(daemon, token, chat.id, (event) => {
    if (event.type !== 'delta') return;
    const delta = event.delta;
    if (delta.type === 'text-delta' && firstToken === undefined) firstToken = now() - stampOf(delta.text);
    if (delta.type === 'message-status' && delta.status !== 'running') {
      if (delta.status === 'done') done.resolve(now());
      else done.reject(new Error(`A chat turn ended ${delta.status}.`));
    }
  });
  return {
    async go() {
      const started = now();
      await trpc(daemon.url, 'POST', 'chats.send', { input: { chatId: chat.id, text: 'Bench.' }, headers });
      const end = await finished;
      close();
      return { firstToken, total: end - started };
    },
  };
}

async function chatTurn(daemon, token) {
  return (await prepareChatTurn(daemon, token)).go();
}

// ---------------------------------------------------------------------------------------------

function summary(label, samples, wall) {
  const first = samples.map((s) => s.firstToken).sort((a, b) => a - b);
  const total = samples.map((s) => s.total).sort((a, b) => a - b);
  return {
    label,
    n: samples.length,
    firstP50: median(first),
    firstP99: percentile(first, 99),
    totalP50: median(total),
    totalP99: percentile(total, 99),
    wall,
  };
}

async function sequential(label, count, turn) {
  for (let i = 0; i < 5; i++) await turn(); // warm-up: connections, JIT
  const samples = [];
  for (let i = 0; i < count; i++) samples.push(await turn());
  return summary(label, samples);
}

async function concurrent(label, count, turn) {
  const started = now();
  const samples = await Promise.all(Array.from({ length: count }, () => turn()));
  return summary(label, samples, now() - started);
}

async function setUpDaemon(fake, nodeArgs) {
  const daemon = await startDaemon({ name: 'daemon (SQLite)', nodeArgs });
  const { headers } = await signInFirstUser(daemon.url, { name: 'daemon', username: 'bench' });
  const token = headers.authorization.slice('Bearer '.length);
  await trpc(daemon.url, 'POST', 'ai.providers.create', {
    input: { name: 'openai', kind: 'openai', baseUrl: `${fake.url}/v1`, apiKey: fake.key },
    headers,
  });
  await trpc(daemon.url, 'POST', 'ai.models.upsert', {
    input: { provider: 'openai', name: MODEL, inputPrice: 1, outputPrice: 2 },
    headers,
  });
  return { daemon, token, headers };
}

const ms = (n) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

async function main() {
  const options = parseArgs(process.argv.slice(2), {
    usage: USAGE,
    defaults: { turns: 40, concurrent: 50, build: false, cpuProf: undefined },
    flags: {
      '--cpu-prof': matching('cpuProf', /./, '--cpu-prof needs a directory.'),
      '--turns': integer('turns', { min: 1, max: 10_000 }),
      '--concurrent': integer('concurrent', { min: 1, max: 1000 }),
      '--build': (o) => {
        o.build = true;
      },
    },
  });
  const load = loadAverage();
  ensureBuilt({ name: 'daemon', dir: DAEMON_DIR, bundle: DAEMON_BIN }, options.build);
  const bundle = bundleTypeScript(FAKE_SOURCE, { prefix: 'warren-bench-fake-', name: 'fake.mjs' }).file;
  const fakeServer = await startServer({
    name: 'fake provider',
    args: [FAKE_SERVER, bundle],
    ipc: true,
    ready: (line) => /^listening (\S+ \S+)/.exec(line)?.[1],
  });
  const [url, key] = fakeServer.url.split(' ');
  const fake = { url, key };
  const nodeArgs = options.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(options.cpuProf)] : [];
  const { daemon, token, headers } = await setUpDaemon(fake, nodeArgs);

  log(`one at a time: ${options.turns} turns per path...`);
  const rows = [];
  rows.push(await sequential('raw provider, 1 at a time', options.turns, () => rawTurn(fake)));
  rows.push(await sequential('chat turn, 1 at a time', options.turns, () => chatTurn(daemon, token)));
  log(`${options.concurrent} at once...`);
  rows.push(
    await concurrent(`raw provider, ${options.concurrent} at once`, options.concurrent, () => rawTurn(fake)),
  );
  // Every chat and its watcher first, then every message at once.
  const prepared = await Promise.all(
    Array.from({ length: options.concurrent }, () => prepareChatTurn(daemon, token)),
  );
  let next = 0;
  rows.push(
    await concurrent(`chat turn, ${options.concurrent} at once`, options.concurrent, () =>
      prepared[next++].go(),
    ),
  );

  const turns = 5 + options.turns + options.concurrent;
  // Every chat turn is one model call through the gateway, each recorded.
  // Records are written in batches just after each call: wait for the last ones (up to 5 s).
  let recorded = 0;
  for (let i = 0; i < 50 && recorded < turns; i++) {
    const usage = await trpc(daemon.url, 'GET', 'ai.usage.summary', { input: { groupBy: 'user' }, headers });
    recorded = usage?.total?.requests ?? 0;
    if (recorded < turns) await new Promise((r) => setTimeout(r, 100));
  }

  const added = (chat, raw, key) => chat[key] - raw[key];
  process.stdout.write(`\n${machineLine()}\n${loadLine(load)}\n`);
  process.stdout.write(
    `fake provider: ${process.env.BENCH_TEXT_CHUNKS ?? 20} text chunks, ${process.env.BENCH_CHUNK_DELAY_MS ?? 2} ms apart; times in ms\n\n`,
  );
  process.stdout.write(
    `${formatTable(
      [
        { header: 'path', cell: (r) => r.label },
        { header: 'n', cell: (r) => String(r.n), right: true },
        { header: 'first token p50', cell: (r) => ms(r.firstP50), right: true },
        { header: 'p99', cell: (r) => ms(r.firstP99), right: true },
        { header: 'turn p50', cell: (r) => ms(r.totalP50), right: true },
        { header: 'p99', cell: (r) => ms(r.totalP99), right: true },
        { header: 'wall', cell: (r) => (r.wall === undefined ? '' : ms(r.wall)), right: true },
      ],
      rows,
    )}\n\n`,
  );
  const [rawSeq, chatSeq, rawPar, chatPar] = rows;
  process.stdout.write(
    `${formatTable(
      [
        { header: 'added by the chat loop', cell: (r) => r.label },
        { header: 'first token p50', cell: (r) => ms(r.first), right: true },
        { header: 'per-turn p50', cell: (r) => ms(r.turn), right: true },
        { header: 'per-turn p99', cell: (r) => ms(r.turn99), right: true },
      ],
      [
        {
          label: '1 at a time',
          first: added(chatSeq, rawSeq, 'firstP50'),
          turn: added(chatSeq, rawSeq, 'totalP50'),
          turn99: added(chatSeq, rawSeq, 'totalP99'),
        },
        {
          label: `${options.concurrent} at once`,
          first: added(chatPar, rawPar, 'firstP50'),
          turn: added(chatPar, rawPar, 'totalP50'),
          turn99: added(chatPar, rawPar, 'totalP99'),
        },
      ],
    )}\n`,
  );
  process.stdout.write(
    `\nchat turns run (warm-up included): ${turns}; gateway records of their model calls: ${recorded}\n`,
  );
  await daemon.stop();
  await fakeServer.stop();
  return 0;
}

runBench({ name: 'bench:chat', usage: USAGE }, main);
