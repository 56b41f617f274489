// Open-loop HTTP load: requests go out at a fixed arrival rate whatever the server does, from N
// clients that each own one keep-alive connection (request i belongs to client i mod N and waits
// for that client's connection if it is still busy). Latency runs from the moment each request
// was due, not from when it could be sent, so a server that stalls is charged for every request
// queued behind the stall (no coordinated omission, as in wrk2).
//
// openLoop() runs in this process; openLoopInChild() runs it in a child process of its own, so the
// generator shares its event loop with nothing else (run.mjs's own timers, a server under test).
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { keepAliveAgent, requestTarget, timedRequest } from './http.mjs';
import { percentile } from './stats.mjs';

const THIS_FILE = fileURLToPath(import.meta.url);

/** A growable Float64Array. */
class Samples {
  #values = new Float64Array(1 << 14);
  length = 0;
  push(value) {
    if (this.length === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.length++] = value;
  }
  sorted() {
    return this.#values.slice(0, this.length).sort();
  }
}

const bump = (counts, key) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/**
 * Runs `warmupS` seconds of load (not counted), then `durationS` seconds measured, at `rate`
 * requests per second over `connections` clients, every request the same (`method`, `headers`,
 * `body` to `url`; warm-up requests carry `warmupHeaders` when given). `onMeasure()` is called as
 * the first measured request goes out. A request counts as ok when it is 2xx, ends normally and, with `expectTail`,
 * its body ends with that text (a stream that reached its end marker). Resolves to:
 *
 * - scheduled, ok, non2xx, errors, incomplete; statusCodes / errorCodes: counts by status / code
 * - latencies, ttfbs: sorted Float64Arrays (ms from the due time to the end / the first body byte) of ok requests
 * - headerValues: sorted numeric values of the response header `recordHeader`, when asked for
 * - sendLag: { p50, p99, max } ms between a request's due time and when the generator sent it
 * - achievedRate: measured requests sent per second; completedRate: ok requests per second
 * - maxInFlight: most requests sent and not yet answered at once; generatorCpuSeconds
 */
export async function openLoop(
  {
    url,
    method = 'POST',
    headers = {},
    warmupHeaders = headers,
    body,
    rate,
    durationS,
    warmupS = 0,
    connections = 64,
    timeoutMs = 10_000,
    expectTail,
    recordHeader,
  },
  { onMeasure } = {},
) {
  const target = requestTarget(url);
  const clients = Array.from({ length: connections }, () => keepAliveAgent(1));
  const interval = 1000 / rate;
  const warmupCount = Math.round(rate * warmupS);
  const total = warmupCount + Math.round(rate * durationS);
  const payload = body === undefined ? undefined : Buffer.from(body);

  const result = {
    scheduled: total - warmupCount,
    ok: 0,
    non2xx: 0,
    errors: 0,
    incomplete: 0,
    statusCodes: {},
    errorCodes: {},
    maxInFlight: 0,
  };
  const latencies = new Samples();
  const ttfbs = new Samples();
  const headerValues = new Samples();
  const lags = new Samples();
  let inFlight = 0;
  let firstDueAt;
  let lastSentAt;
  let lastEndAt;
  let cpuAtStart;
  const pending = new Set();

  const record = (due, r) => {
    if (r.error) {
      result.errors++;
      bump(result.errorCodes, r.error);
    } else if (r.status < 200 || r.status >= 300) {
      result.non2xx++;
      bump(result.statusCodes, r.status);
    } else if (expectTail !== undefined && !r.tail.endsWith(expectTail)) {
      result.incomplete++;
    } else {
      result.ok++;
      latencies.push(r.endAt - due);
      ttfbs.push(r.firstByteAt - due);
      if (recordHeader) {
        const value = Number(r.headers[recordHeader]);
        if (Number.isFinite(value)) headerValues.push(value);
      }
      lastEndAt = r.endAt;
    }
  };

  const fire = (i, due) => {
    const measured = i >= warmupCount;
    const sentAt = performance.now();
    if (measured) {
      if (i === warmupCount) {
        firstDueAt = due;
        cpuAtStart = process.cpuUsage();
        onMeasure?.();
      }
      lastSentAt = sentAt;
      lags.push(sentAt - due);
    }
    inFlight++;
    if (inFlight > result.maxInFlight && measured) result.maxInFlight = inFlight;
    const request = timedRequest({
      agent: clients[i % connections],
      target,
      method,
      headers: measured ? headers : warmupHeaders,
      body: payload,
      timeoutMs,
      tailBytes: expectTail === undefined ? 0 : Math.max(16, expectTail.length),
    }).then((r) => {
      inFlight--;
      pending.delete(request);
      if (measured) record(due, r);
    });
    pending.add(request);
  };

  const t0 = performance.now() + 20;
  let next = 0;
  await new Promise((scheduled) => {
    const tick = () => {
      const now = performance.now();
      while (next < total) {
        const due = t0 + next * interval;
        if (due > now) break;
        fire(next++, due);
      }
      if (next >= total) return scheduled();
      // Timers fire at 1 ms granularity at best: a request can go out up to ~1 ms late (sendLag says by how much).
      setTimeout(tick, Math.max(0, t0 + next * interval - performance.now()));
    };
    setTimeout(tick, Math.max(0, t0 - performance.now()));
  });

  // Wait for the last answers; whatever is still open after the timeout is cut and counted as an error.
  const cutoff = setTimeout(() => {
    for (const client of clients) client.destroy();
  }, timeoutMs + 1_000);
  while (pending.size) await Promise.all([...pending]);
  clearTimeout(cutoff);
  const cpu = process.cpuUsage(cpuAtStart);
  for (const client of clients) client.destroy();

  const sortedLags = lags.sorted();
  // From the first measured request's due time, so a late start cannot make the rate look higher.
  const sendSeconds = (lastSentAt - firstDueAt) / 1000;
  return {
    ...result,
    rate,
    durationS,
    connections,
    latencies: latencies.sorted(),
    ttfbs: ttfbs.sorted(),
    headerValues: headerValues.sorted(),
    sendLag: {
      p50: percentile(sortedLags, 50),
      p99: percentile(sortedLags, 99),
      max: sortedLags[sortedLags.length - 1] ?? Number.NaN,
    },
    achievedRate: sendSeconds > 0 ? (result.scheduled - 1) / sendSeconds : Number.NaN,
    completedRate: lastEndAt > firstDueAt ? result.ok / ((lastEndAt - firstDueAt) / 1000) : Number.NaN,
    generatorCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

/**
 * openLoop(options) in a child process of its own (registered with ./cleanup.mjs, so it is killed
 * if the bench stops); resolves to the same result. `onMeasure()` is called here when the child
 * sends its first measured request (an IPC message later).
 */
export async function openLoopInChild(options, { onMeasure } = {}) {
  const { trackChild } = await import('./cleanup.mjs');
  const child = fork(THIS_FILE, [], {
    serialization: 'advanced', // typed arrays cross as they are
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = trackChild(child);
  return new Promise((resolve, reject) => {
    child.on('message', (message) => {
      if (message.measuring) return onMeasure?.();
      if (message.error) reject(new Error(`The load generator failed: ${message.error}`));
      else resolve(message.result);
      child.disconnect();
    });
    exited.then(({ code, signal }) =>
      reject(new Error(`The load generator exited (${signal ?? `code ${code}`}) before it reported.`)),
    );
    child.send(options);
  });
}

// As a child of openLoopInChild: one run, its result back over IPC, then exit.
if (process.argv[1] === THIS_FILE && process.send) {
  process.on('disconnect', () => process.exit(0));
  process.once('message', (options) => {
    openLoop(options, { onMeasure: () => process.send({ measuring: true }) }).then(
      (result) => process.send({ result }),
      (error) => process.send({ error: error.stack ?? String(error) }),
    );
  });
}
