import { WarrenError } from '@warren/core';
import Dockerode from 'dockerode';

const DEFAULT_SOCKET = '/var/run/docker.sock';

/** Socket and network failures: the engine is not there, as opposed to refusing a request. */
const unreachableReasons: Record<string, string> = {
  ENOENT: 'there is no socket there (is the Docker Engine running?)',
  ECONNREFUSED: 'the connection was refused (is the Docker Engine running?)',
  EACCES:
    "permission denied (the daemon's user needs access to the socket, for example through the docker group)",
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection was closed',
  ETIMEDOUT: 'it did not answer in time',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve',
};

/** What dockerode rejects with: a Node socket error (code) or an engine answer (statusCode, json). */
type EngineFailure = Error & { code?: string; statusCode?: number; json?: { message?: string } | null };

export function statusOf(error: unknown): number | undefined {
  return (error as EngineFailure | null)?.statusCode;
}

/**
 * A Docker Engine and the address it was reached at, for messages. Every engine call goes
 * through `call`, so a failure becomes one WarrenError with a sentence: UNAVAILABLE when the
 * engine cannot be reached, UPSTREAM when it refused.
 */
export class DockerEngine {
  readonly api: Dockerode;
  readonly address: string;

  /** `host` is DOCKER_HOST-style: unix:///var/run/docker.sock, tcp://host:2375, ssh://user@host. */
  constructor(dockerOrHost?: Dockerode | string) {
    if (dockerOrHost instanceof Dockerode) {
      this.api = dockerOrHost;
      this.address = describeModem(dockerOrHost.modem);
    } else {
      const host = dockerOrHost ?? process.env.DOCKER_HOST ?? `unix://${DEFAULT_SOCKET}`;
      this.api = new Dockerode(dockerodeOptions(host));
      this.address = host;
    }
  }

  async call<T>(doing: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw this.failure(error, doing);
    }
  }

  /** Asks the engine its version, failing within `timeoutMs` when nothing answers. */
  async version(timeoutMs = 15_000): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })), timeoutMs);
    });
    try {
      const info = await this.call('report its version', () => Promise.race([this.api.version(), timeout]));
      return info.Version;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last lines a container wrote to stdout and stderr. */
  async tail(container: Dockerode.Container, lines = 20): Promise<string> {
    const raw = await this.call('read the container log', () =>
      container.logs({ stdout: true, stderr: true, tail: lines, follow: false }),
    );
    return demultiplex(raw);
  }

  failure(error: unknown, doing: string): WarrenError {
    if (error instanceof WarrenError) return error;
    const failure = error as EngineFailure;
    const unreachable = failure.code === undefined ? undefined : unreachableReasons[failure.code];
    if (unreachable !== undefined) {
      return new WarrenError(
        'UNAVAILABLE',
        `Cannot reach the Docker Engine at ${this.address}: ${unreachable}.`,
        {
          cause: error,
        },
      );
    }
    const said = failure.json?.message ?? failure.message ?? String(error);
    return new WarrenError(
      'UPSTREAM',
      `The Docker Engine at ${this.address} could not ${doing}: ${said.trim()}.`,
      {
        cause: error,
      },
    );
  }
}

function dockerodeOptions(host: string): Dockerode.DockerOptions {
  // docker-modem merges DOCKER_HOST's settings under ours; `host: undefined` keeps a tcp
  // DOCKER_HOST from overriding an explicit socket.
  if (host.startsWith('unix://'))
    return { socketPath: host.slice('unix://'.length) || DEFAULT_SOCKET, host: undefined };
  if (host.startsWith('/')) return { socketPath: host, host: undefined };
  let url: URL;
  try {
    url = new URL(host.includes('://') ? host : `tcp://${host}`);
  } catch {
    throw invalidHost(host);
  }
  if (url.protocol === 'ssh:') {
    return { protocol: 'ssh', host: url.hostname, port: url.port || 22, username: url.username || undefined };
  }
  if (!['tcp:', 'http:', 'https:'].includes(url.protocol) || url.hostname === '') throw invalidHost(host);
  const tls = url.protocol === 'https:' || process.env.DOCKER_TLS_VERIFY === '1' || url.port === '2376';
  return { protocol: tls ? 'https' : 'http', host: url.hostname, port: url.port || (tls ? 2376 : 2375) };
}

function invalidHost(host: string): WarrenError {
  return new WarrenError(
    'INVALID_INPUT',
    `The Docker host "${host}" is not an address Warren understands; use unix:///path/to/docker.sock, tcp://host:port or ssh://user@host.`,
  );
}

/** docker-modem keeps its address in untyped fields; read only what an address needs. */
function describeModem(modem: unknown): string {
  const m = modem as { socketPath?: unknown; host?: unknown; port?: unknown; protocol?: unknown };
  if (typeof m.host === 'string' && m.host !== '') {
    const scheme = m.protocol === 'ssh' ? 'ssh' : m.protocol === 'https' ? 'https' : 'tcp';
    return `${scheme}://${m.host}${m.port ? `:${String(m.port)}` : ''}`;
  }
  // docker-modem's default socket is a function that looks for it at the first request.
  return `unix://${typeof m.socketPath === 'string' ? m.socketPath : DEFAULT_SOCKET}`;
}

/** Docker frames a container's log without a TTY: 8-byte headers (stream, 3 zero bytes, size). */
function demultiplex(raw: Buffer): string {
  const parts: Buffer[] = [];
  for (let offset = 0; offset + 8 <= raw.length; ) {
    const size = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}
