import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NetnsLab } from './netns';

const SCRIPT = fileURLToPath(new URL('./tcpTransfer.mjs', import.meta.url));

export interface TransferSide {
  bytes: number;
  sha256: string;
  ms: number;
  /** Source only: how long the TCP connection took to come up (over WireGuard: the handshake too). */
  connectMs?: number;
}

/** The next JSON line the child prints; rejects with its stderr if it ends first ('close', not 'exit': stdout may still hold the line at exit). */
function nextJsonLine(child: ChildProcess, what: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const newline = out.indexOf('\n');
      if (newline < 0) return;
      child.stdout?.off('data', onData);
      resolve(JSON.parse(out.slice(0, newline)));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once('close', (code) =>
      reject(new Error(`${what} exited with ${code} before reporting: ${err.trim()}`)),
    );
  });
}

/**
 * Sends bytes over TCP from `sourceNs` to a sink listening on host:port in `sinkNs` (a fixed
 * byte count, or as many as fit in `seconds`) and returns what each side counted.
 */
export async function runTcpTransfer(
  lab: NetnsLab,
  options: { sinkNs: string; sourceNs: string; host: string; port: number; bytes?: number; seconds?: number },
): Promise<{ sink: TransferSide; source: TransferSide }> {
  const endpoint = [options.host, String(options.port)];
  const sink = lab.spawn(options.sinkNs, process.execPath, [SCRIPT, 'sink', ...endpoint]);
  const listening = nextJsonLine(sink, 'the TCP sink');
  await listening;
  const sinkDone = nextJsonLine(sink, 'the TCP sink');
  const source = lab.spawn(options.sourceNs, process.execPath, [
    SCRIPT,
    'source',
    ...endpoint,
    String(options.bytes ?? 0),
    String(options.seconds ?? 0),
  ]);
  const [sinkResult, sourceResult] = await Promise.all([sinkDone, nextJsonLine(source, 'the TCP source')]);
  return { sink: sinkResult as unknown as TransferSide, source: sourceResult as unknown as TransferSide };
}
