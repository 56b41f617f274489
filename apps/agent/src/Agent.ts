import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type AgentLifecycleState,
  type AgentLogLine,
  type AgentLogSource,
  type AgentManifestFrame,
  type AgentRequestFrame,
  type AgentStreamFrame,
  type AgentToDaemonFrame,
  type DaemonToAgentFrame,
  decodeAgentFrame,
  encodeAgentFrame,
  WarrenError,
} from '@warren/core';
import { tunnelStream } from '@warren/core/node';
import type { WebSocket } from 'ws';
import type { AgentConfig } from './AgentConfig';
import type { AgentLog } from './AgentLog';
import { DaemonSocket, type DaemonSocketOptions } from './DaemonSocket';
import { defaultBatchLimits, LogBatcher, type LogBatcherLimits } from './LogBatcher';
import { Outbox } from './Outbox';
import { runAgentOperation } from './operations';
import { WorkspaceProbes } from './probes/WorkspaceProbes';
import { runScript } from './runScript';
import { loadOrCreateHostKey } from './ssh/hostKey';
import { SshServer } from './ssh/SshServer';
import { StreamDialer } from './streams/StreamDialer';
import { serveTerminalStream } from './streams/terminalStream';
import { daemonUrlFromConnectUrl, PtyAddonSource } from './terminals/PtyAddonSource';
import { TerminalSessions } from './terminals/TerminalSessions';
import { AGENT_VERSION } from './version';
import { WireguardAgent } from './wireguard/WireguardAgent';

/** How often a lasting backlog is reported while frames keep being dropped. */
const DROPPED_NOTICE_INTERVAL_MS = 5000;

export interface AgentOptions {
  config: AgentConfig;
  log: AgentLog;
  exit: (code: number) => void;
  socket?: DaemonSocketOptions;
  batch?: LogBatcherLimits;
  /** How long shutdown waits to hand its last frames to the daemon before exiting anyway. */
  flushTimeoutMs?: number;
}

/**
 * The workspace agent: reports its lifecycle to the daemon, runs the startup script once per
 * process (a reconnect resends state, never reruns it), and on `shutdown` or SIGTERM runs the
 * shutdown script, reports off and exits.
 */
export class Agent {
  #lifecycle: AgentLifecycleState = 'created';
  #manifest: AgentManifestFrame | undefined;
  #startup: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  readonly #startupAbort = new AbortController();
  readonly #outbox = new Outbox();
  readonly #batcher: LogBatcher;
  readonly #socket: DaemonSocket;
  readonly #hostKey: { publicKey: string; privateKey: string };
  readonly #ssh: SshServer;
  readonly #streams: StreamDialer;
  readonly #wireguard: WireguardAgent;
  readonly #terminals: TerminalSessions;
  readonly #probes: WorkspaceProbes;
  /** Log frames the outbox dropped since the last notice about it. */
  #dropped = 0;
  #droppedNoticeAt = 0;
  /** Requests from the daemon still running, so a `cancel` can stop them. */
  readonly #requests = new Map<string, AbortController>();

  constructor(private readonly options: AgentOptions) {
    this.#batcher = new LogBatcher(
      (source, lines) => this.#logsFrame(source, lines),
      options.batch ?? defaultBatchLimits,
    );
    this.#socket = new DaemonSocket(
      options.config.connectUrl,
      options.config.token,
      options.log,
      {
        onOpen: () => this.#greet(),
        onFrame: (frame) => this.#onFrame(frame),
        onUnauthorized: () => {
          if (!this.#stopping) options.exit(1);
        },
        // Nothing this agent can fix by redialling (its host key is not the pinned one): stop.
        onRefused: () => {
          if (!this.#stopping) options.exit(1);
        },
        onWritable: () => this.#flush(),
      },
      options.socket,
    );
    this.#hostKey = loadOrCreateHostKey(path.join(options.config.dir, '.warren', 'agent'));
    const addons = new PtyAddonSource({ daemonUrl: daemonUrlFromConnectUrl(options.config.connectUrl) });
    this.#terminals = new TerminalSessions({ addon: () => addons.load(), defaultCwd: options.config.dir });
    this.#ssh = new SshServer({
      hostKey: this.#hostKey,
      dir: options.config.dir,
      log: options.log,
      terminals: this.#terminals,
    });
    this.#probes = new WorkspaceProbes(options.config.dir, (status) => this.#send(status, true));
    this.#streams = new StreamDialer(options.config.connectUrl, options.config.token, options.log);
    this.#wireguard = new WireguardAgent({
      ssh: this.#ssh,
      log: options.log,
      send: (frame) => this.#socket.send(encodeAgentFrame(frame)),
      note: (line) => this.#agentLine(line),
    });
  }

  get lifecycle(): AgentLifecycleState {
    return this.#lifecycle;
  }

  start(): void {
    fs.mkdirSync(this.options.config.dir, { recursive: true });
    this.options.log.info('warren agent starting', { version: AGENT_VERSION, dir: this.options.config.dir });
    this.#socket.start();
  }

  /** Runs the shutdown script, reports off, hands the last frames over and exits 0. Idempotent. */
  shutdown(reason: string): Promise<void> {
    this.#stopping ??= this.#shutdown(reason);
    return this.#stopping;
  }

  async #shutdown(reason: string): Promise<void> {
    const { log } = this.options;
    log.info('shutting down', { reason });
    this.#startupAbort.abort();
    await this.#startup;
    this.#setLifecycle('shutting_down');
    const script = this.#manifest?.shutdownScript;
    if (script?.trim()) {
      this.#agentLine('running the shutdown script');
      const ok = await this.#run('shutdown_script', script);
      if (!ok.success) this.#agentLine(`the shutdown script ${ok.reason}`);
    }
    this.#terminals.closeAll();
    this.#probes.stop();
    this.#streams.dropStandby();
    await this.#wireguard.stop();
    this.#setLifecycle('off');
    await this.#handOver(this.options.flushTimeoutMs ?? 5000);
    log.info('stopped');
    this.options.exit(0);
  }

  #onFrame(frame: DaemonToAgentFrame): void {
    if (frame.type === 'manifest') {
      this.#manifest = frame;
      if (!this.#stopping) this.#probes.start(frame);
      if (frame.wireguard && !this.#stopping) void this.#wireguard.enable(frame.agentId);
      if (!this.#startup && !this.#stopping) this.#startup = this.#runStartup(frame);
    } else if (frame.type === 'shutdown') {
      void this.shutdown('the daemon asked the agent to shut down');
    } else if (frame.type === 'stream') {
      this.#openStream(frame);
    } else if (frame.type === 'request') {
      void this.#answer(frame);
    } else if (frame.type === 'wireguard_map') {
      void this.#wireguard.applyMap(frame.map);
    } else if (frame.type === 'wireguard_accept') {
      this.#wireguard.accept(frame);
    } else if (frame.type === 'wireguard_ticket') {
      this.#wireguard.grantTicket(frame);
    } else if (frame.type === 'cancel') {
      this.#requests.get(frame.id)?.abort();
    }
  }

  #openStream(frame: AgentStreamFrame): void {
    this.#streams.dial(frame, (socket) => this.#serveStream(frame, socket));
  }

  #serveStream(frame: AgentStreamFrame, socket: WebSocket): void {
    // One bad stream must never take the agent (and every other connection) down.
    try {
      if (frame.kind === 'ssh' && frame.clientKey) {
        const stream = tunnelStream(socket);
        stream.on('error', () => socket.terminate());
        this.#ssh.serve(stream, frame.clientKey);
      } else if (frame.kind === 'terminal' && frame.terminal)
        serveTerminalStream(socket, this.#terminals, frame.terminal);
      else socket.close(1003, `this agent does not serve ${frame.kind} streams`);
    } catch (error) {
      this.options.log.warn('a stream could not be served', { kind: frame.kind, error: String(error) });
      socket.terminate();
    }
  }

  /**
   * A standby stream serves SSH only, and starts it at once: ident and KEXINIT wait at the daemon
   * for the client that takes this socket. The daemon's `stream` frame (with the client key) is
   * the one text frame the socket may carry, and it comes before any of the client's bytes.
   */
  #primeStandby(socket: WebSocket, used: () => void): void {
    let assign: ((clientKey: string) => boolean) | undefined;
    const onText = (text: string) => {
      used();
      let frame: AgentStreamFrame | undefined;
      try {
        const decoded = decodeAgentFrame(text, 'to-agent');
        frame = decoded.type === 'stream' ? decoded : undefined;
      } catch {
        frame = undefined;
      }
      const taken = assign;
      assign = undefined;
      if (!taken || frame?.kind !== 'ssh' || !frame.clientKey || !taken(frame.clientKey))
        socket.close(1008, 'a standby stream takes one ssh stream frame with a readable client key');
    };
    try {
      const stream = tunnelStream(socket, { onText });
      stream.on('error', () => socket.terminate());
      assign = this.#ssh.serveStandby(stream);
    } catch (error) {
      this.options.log.warn('a standby stream could not be served', { error: String(error) });
      socket.terminate();
    }
  }

  /** Runs one operation the daemon asked for and answers on the control socket. */
  async #answer(frame: AgentRequestFrame): Promise<void> {
    const abort = new AbortController();
    this.#requests.set(frame.id, abort);
    let response: AgentToDaemonFrame;
    try {
      const result = await runAgentOperation(frame.op, frame.params, {
        root: this.options.config.dir,
        signal: abort.signal,
      });
      response = { type: 'response', id: frame.id, result };
    } catch (error) {
      const known = error instanceof WarrenError;
      if (!known) this.options.log.warn('an operation failed', { op: frame.op, error: String(error) });
      response = {
        type: 'response',
        id: frame.id,
        error: known
          ? { code: error.code, message: error.message.slice(0, 4096) }
          : { code: 'INTERNAL', message: `The agent could not run "${frame.op.slice(0, 64)}".` },
      };
    } finally {
      this.#requests.delete(frame.id);
    }
    if (abort.signal.aborted) return;
    let text: string;
    try {
      text = encodeAgentFrame(response);
    } catch (error) {
      text = encodeAgentFrame({
        type: 'response',
        id: frame.id,
        error: { code: 'PAYLOAD_TOO_LARGE', message: (error as Error).message },
      });
    }
    this.#socket.send(text);
  }

  async #runStartup(manifest: AgentManifestFrame): Promise<void> {
    this.#setLifecycle('starting');
    const script = manifest.startupScript;
    if (!script?.trim()) {
      this.#setLifecycle('ready');
      return;
    }
    this.#agentLine('running the startup script');
    const result = await this.#run('startup_script', script, this.#startupAbort.signal);
    if (result.aborted) return;
    if (result.success) {
      this.#agentLine('the startup script finished');
      this.#setLifecycle('ready');
    } else {
      this.#agentLine(`the startup script ${result.reason}`);
      this.#setLifecycle('start_error');
    }
  }

  async #run(
    source: 'startup_script' | 'shutdown_script',
    script: string,
    signal?: AbortSignal,
  ): Promise<{ success: boolean; aborted: boolean; reason: string }> {
    const timeoutMs = this.#manifest?.scriptTimeoutMs ?? 300_000;
    const result = await runScript({
      script,
      cwd: this.options.config.dir,
      env: { ...process.env, WARREN_AGENT_DIR: this.options.config.dir },
      timeoutMs,
      signal,
      onLine: (line) => this.#batcher.push(source, line),
    });
    const reason = result.error
      ? `could not be started: ${result.error}`
      : result.timedOut
        ? `timed out after ${Math.round(timeoutMs / 1000)} s and was stopped`
        : result.signal
          ? `was killed by ${result.signal}`
          : `exited with code ${result.exitCode}`;
    this.options.log.info(`${source.replace('_', ' ')} ${reason}`);
    return { success: result.exitCode === 0 && !result.timedOut, aborted: result.aborted, reason };
  }

  #setLifecycle(state: AgentLifecycleState): void {
    // Lines written before a state change are sent before it.
    this.#batcher.flush();
    this.#lifecycle = state;
    this.options.log.info('lifecycle', { state });
    this.#send({ type: 'lifecycle', state }, false);
  }

  #agentLine(line: string): void {
    this.#batcher.push('agent', line);
  }

  #logsFrame(source: AgentLogSource, lines: AgentLogLine[]): void {
    this.#send({ type: 'logs', source, lines }, true);
  }

  #send(frame: AgentToDaemonFrame, droppable: boolean): void {
    this.#outbox.push(encodeAgentFrame(frame), droppable);
    this.#flush();
  }

  #flush(): void {
    this.#dropped += this.#outbox.drain((text) => this.#socket.offer(text));
    // One notice per backlog (or every few seconds of one): a notice per dropped frame would
    // itself flood the outbox it reports on.
    if (this.#dropped === 0) return;
    if (!this.#outbox.isEmpty && Date.now() - this.#droppedNoticeAt < DROPPED_NOTICE_INTERVAL_MS) return;
    const dropped = this.#dropped;
    this.#dropped = 0;
    this.#droppedNoticeAt = Date.now();
    this.options.log.warn('log frames were dropped: the daemon was unreachable or slower than the output', {
      frames: dropped,
    });
    this.#agentLine(
      `${dropped} batches of log lines were dropped: the daemon was unreachable or could not keep up with the output`,
    );
  }

  /** Every connection opens with hello, then what waited, then the current state. */
  #greet(): void {
    const hello: AgentToDaemonFrame = {
      type: 'hello',
      version: AGENT_VERSION,
      os: process.platform,
      arch: process.arch,
      hostname: os.hostname().slice(0, 255),
      sshHostKey: this.#hostKey.publicKey,
    };
    this.#socket.send(encodeAgentFrame(hello));
    this.#streams.keepStandby((socket, used) => this.#primeStandby(socket, used));
    this.#batcher.flush();
    this.#flush();
    this.#socket.send(encodeAgentFrame({ type: 'lifecycle', state: this.#lifecycle }));
  }

  async #handOver(timeoutMs: number): Promise<void> {
    this.#batcher.flush();
    const deadline = Date.now() + timeoutMs;
    while (!(this.#socket.isOpen && this.#outbox.isEmpty) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      this.#flush();
    }
    if (!this.#outbox.isEmpty) this.options.log.warn('exiting before the daemon received the last frames');
    await this.#socket.close();
  }
}
