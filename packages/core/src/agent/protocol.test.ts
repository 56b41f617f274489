import { describe, expect, it } from 'vitest';
import { type SeededRandom, seededRandom } from '../../test-support/seededRandom';
import { WarrenError } from '../errors/WarrenError';
import {
  type AgentFrame,
  agentFrameSchema,
  decodeAgentFrame,
  encodeAgentFrame,
  MAX_AGENT_FRAME_BYTES,
  MAX_LOG_LINE_CHARS,
  MAX_LOG_LINES_PER_FRAME,
} from './protocol';

const valid: AgentFrame[] = [
  { type: 'hello', version: '0.1.0', os: 'linux', arch: 'x64', hostname: 'ws-1' },
  { type: 'lifecycle', state: 'ready' },
  { type: 'logs', source: 'startup_script', lines: [{ time: 1_700_000_000_000, line: 'installing… ✓' }] },
  {
    type: 'manifest',
    agentId: 'a1',
    startupScript: 'echo hi',
    scriptTimeoutMs: 300_000,
    apps: [{ slug: 'code', port: 8080 }],
    metadata: [{ key: 'load', script: 'uptime', interval: '10s', timeout: '5s' }],
  },
  { type: 'shutdown' },
];

function invalidInput(fn: () => unknown): WarrenError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WarrenError);
    expect((error as WarrenError).code).toBe('INVALID_INPUT');
    return error as WarrenError;
  }
  throw new Error('expected the frame to be rejected');
}

describe('agent protocol frames', () => {
  it.each(valid.map((f) => [f.type, f] as const))('round-trips a %s frame', (_type, frame) => {
    const text = encodeAgentFrame(frame);
    expect(decodeAgentFrame(text)).toEqual(frame);
    expect(decodeAgentFrame(new TextEncoder().encode(text))).toEqual(frame);
  });

  it('rejects a frame meant for the other side', () => {
    const hello = encodeAgentFrame(valid[0] as AgentFrame);
    expect(decodeAgentFrame(hello, 'to-daemon').type).toBe('hello');
    expect(invalidInput(() => decodeAgentFrame(hello, 'to-agent')).message).toContain('"hello" frame');
    const shutdown = encodeAgentFrame({ type: 'shutdown' });
    invalidInput(() => decodeAgentFrame(shutdown, 'to-daemon'));
  });

  it('rejects unknown types and unknown fields', () => {
    invalidInput(() => decodeAgentFrame('{"type":"exec","command":"rm -rf /"}'));
    const error = invalidInput(() => decodeAgentFrame('{"type":"lifecycle","state":"ready","extra":1}'));
    expect(error.message).toMatch(/lifecycle/);
    invalidInput(() => decodeAgentFrame('{"type":"lifecycle","state":"dancing"}'));
  });

  it('rejects text that is not JSON or not UTF-8, without echoing it', () => {
    expect(invalidInput(() => decodeAgentFrame('{"type":')).message).toBe(
      'An agent frame is not valid JSON.',
    );
    invalidInput(() => decodeAgentFrame(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])));
    invalidInput(() => decodeAgentFrame('null'));
    invalidInput(() => decodeAgentFrame('[]'));
    invalidInput(() => decodeAgentFrame('{"type":{"toString":1}}'));
  });

  it('refuses an oversized frame before parsing it', () => {
    // Not JSON at all: only the size check can reject it with this message.
    const huge = 'x'.repeat(MAX_AGENT_FRAME_BYTES + 1);
    expect(invalidInput(() => decodeAgentFrame(huge)).message).toMatch(/larger than/);
    expect(invalidInput(() => decodeAgentFrame(new Uint8Array(MAX_AGENT_FRAME_BYTES + 1))).message).toMatch(
      /larger than/,
    );
    // Multi-byte characters count as bytes, not characters.
    const wide = '€'.repeat(Math.ceil(MAX_AGENT_FRAME_BYTES / 3) + 1);
    expect(invalidInput(() => decodeAgentFrame(wide)).message).toMatch(/larger than/);
  });

  it('bounds the lines of a logs frame', () => {
    const line = { time: 1, line: 'ok' };
    const many = {
      type: 'logs',
      source: 'agent',
      lines: Array.from({ length: MAX_LOG_LINES_PER_FRAME + 1 }, () => line),
    };
    invalidInput(() => decodeAgentFrame(JSON.stringify(many)));
    const long = {
      type: 'logs',
      source: 'agent',
      lines: [{ time: 1, line: 'x'.repeat(MAX_LOG_LINE_CHARS + 1) }],
    };
    invalidInput(() => decodeAgentFrame(JSON.stringify(long)));
    invalidInput(() => decodeAgentFrame(JSON.stringify({ type: 'logs', source: 'agent', lines: [] })));
  });

  it('will not encode a frame that breaks the protocol', () => {
    invalidInput(() => encodeAgentFrame({ type: 'lifecycle', state: 'nope' } as unknown as AgentFrame));
    const lines = Array.from({ length: 100 }, (_, i) => ({ time: i, line: 'y'.repeat(MAX_LOG_LINE_CHARS) }));
    expect(invalidInput(() => encodeAgentFrame({ type: 'logs', source: 'agent', lines })).message).toMatch(
      /larger than/,
    );
  });
});

function randomJson(r: SeededRandom, depth = 0): unknown {
  const keys = [
    'type',
    'state',
    'lines',
    'line',
    'time',
    'source',
    'version',
    'agentId',
    'apps',
    '__proto__',
    'constructor',
  ];
  const types = ['hello', 'lifecycle', 'logs', 'manifest', 'shutdown', 'toString', ''];
  switch (r.int(depth > 3 ? 5 : 8)) {
    case 0:
      return null;
    case 1:
      return r.next() < 0.5;
    case 2:
      return r.pick([0, -1, 1e308, Number.MAX_SAFE_INTEGER, 1.5, r.int(1e9)]);
    case 3:
      return r.pick(types);
    case 4:
      return String.fromCharCode(...Array.from({ length: r.int(20) }, () => r.int(0xffff)));
    case 5:
      return Array.from({ length: r.int(4) }, () => randomJson(r, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      if (r.next() < 0.7) out.type = r.pick(types);
      for (let i = r.int(4); i > 0; i--) out[r.pick(keys)] = randomJson(r, depth + 1);
      return out;
    }
  }
}

function mutate(r: SeededRandom, text: string): string {
  const chars = [...text];
  for (let i = r.int(4) + 1; i > 0; i--) {
    const at = r.int(chars.length + 1);
    const op = r.int(3);
    if (op === 0) chars.splice(at, 1);
    else if (op === 1) chars.splice(at, 0, r.pick(['"', '{', '}', ',', ':', '\\', '0', ' ', '\u0000', 'é']));
    else chars.splice(at, 1, String.fromCharCode(r.int(128)));
  }
  return chars.join('');
}

describe('agent frame decoder under fuzzing', () => {
  const r = seededRandom(20240601);

  function decodeNeverCrashes(input: string | Uint8Array) {
    try {
      const frame = decodeAgentFrame(input);
      // Whatever it accepts is a real frame.
      expect(agentFrameSchema.safeParse(frame).success).toBe(true);
    } catch (error) {
      if (!(error instanceof WarrenError) || error.code !== 'INVALID_INPUT') throw error;
    }
  }

  it('survives random bytes', () => {
    for (let i = 0; i < 2000; i++) {
      decodeNeverCrashes(Uint8Array.from({ length: r.int(64) }, () => r.int(256)));
    }
  });

  it('survives random JSON values', () => {
    for (let i = 0; i < 3000; i++) decodeNeverCrashes(JSON.stringify(randomJson(r)) ?? 'undefined');
  });

  it('survives mutated valid frames', () => {
    const texts = valid.map((f) => encodeAgentFrame(f));
    for (let i = 0; i < 3000; i++) decodeNeverCrashes(mutate(r, r.pick(texts)));
  });
});
