import { describe, expect, it } from 'vitest';
import { mutateBytes, seededRandom } from '../../test-support/seededRandom';
import { WarrenError } from '../errors/WarrenError';
import {
  decodeTerminalAgentFrame,
  decodeTerminalClientFrame,
  encodeTerminalAgentFrame,
  encodeTerminalClientFrame,
  MAX_TERMINAL_DATA_BYTES,
  MAX_TERMINAL_FRAME_BYTES,
  type TerminalAgentFrame,
  type TerminalClientFrame,
  terminalAttachSchema,
} from './terminalFrames';

const bytes = (text: string) => new TextEncoder().encode(text);

const clientFrames: TerminalClientFrame[] = [
  { type: 'input', data: bytes('ls -la\r') },
  { type: 'input', data: Uint8Array.from([0x03]) },
  { type: 'resize', cols: 80, rows: 24 },
  { type: 'resize', cols: 4096, rows: 1 },
];
const agentFrames: TerminalAgentFrame[] = [
  { type: 'output', data: bytes('\x1b[1;32mok\x1b[0m\r\n') },
  { type: 'output', data: Uint8Array.from([0xff, 0x00, 0xc3]) },
  { type: 'exit', exitCode: 0, signal: null },
  { type: 'exit', exitCode: -1, signal: null },
  { type: 'exit', exitCode: null, signal: 'SIGKILL' },
  { type: 'error', code: 'TOO_MANY_REQUESTS', message: 'This workspace already runs 32 terminals.' },
];

function refused(run: () => unknown): WarrenError {
  try {
    run();
  } catch (error) {
    if (error instanceof WarrenError && error.code === 'INVALID_INPUT') return error;
    throw error;
  }
  throw new Error('expected the frame to be refused');
}

describe('terminal frames', () => {
  it('carry input, resizes, output, exits and errors across unchanged', () => {
    for (const f of clientFrames) expect(decodeTerminalClientFrame(encodeTerminalClientFrame(f))).toEqual(f);
    for (const f of agentFrames) expect(decodeTerminalAgentFrame(encodeTerminalAgentFrame(f))).toEqual(f);
  });

  it('keep a resize to five bytes: the type, then columns and rows as 16-bit big-endian', () => {
    expect([...encodeTerminalClientFrame({ type: 'resize', cols: 300, rows: 2 })]).toEqual([1, 1, 44, 0, 2]);
  });

  it('are read only in the direction they travel', () => {
    const output = encodeTerminalAgentFrame({ type: 'output', data: bytes('x') });
    expect(refused(() => decodeTerminalClientFrame(output)).message).toBe(
      'Terminal frame refused: type 0x80 is not a frame a terminal client sends.',
    );
    const input = encodeTerminalClientFrame({ type: 'input', data: bytes('x') });
    expect(refused(() => decodeTerminalAgentFrame(input)).message).toMatch(/not a frame the agent sends/);
  });

  it('refuse frames of the wrong length with a sentence', () => {
    expect(refused(() => decodeTerminalClientFrame(new Uint8Array(0))).message).toBe(
      'Terminal frame refused: the frame is empty.',
    );
    expect(refused(() => decodeTerminalClientFrame(Uint8Array.from([1, 0, 80, 0]))).message).toBe(
      'Terminal frame refused: a resize frame has 4 bytes after its type, not 3.',
    );
    expect(refused(() => decodeTerminalClientFrame(Uint8Array.from([1, 0, 0, 0, 24]))).message).toMatch(
      /whole numbers of columns and rows from 1 to 4096/,
    );
    expect(
      refused(() => decodeTerminalClientFrame(new Uint8Array(MAX_TERMINAL_FRAME_BYTES + 1))).message,
    ).toMatch(/larger than the 1048576-byte limit/);
  });

  it('will not encode what the other side would refuse', () => {
    refused(() =>
      encodeTerminalAgentFrame({ type: 'output', data: new Uint8Array(MAX_TERMINAL_DATA_BYTES + 1) }),
    );
    refused(() => encodeTerminalClientFrame({ type: 'input', data: new Uint8Array(0) }));
    refused(() => encodeTerminalAgentFrame({ type: 'exit', exitCode: 1.5, signal: null }));
    refused(() => encodeTerminalAgentFrame({ type: 'exit', exitCode: null, signal: 'kill -9' }));
    refused(() => encodeTerminalAgentFrame({ type: 'error', code: 'NOPE' as 'INTERNAL', message: 'x' }));
    refused(() => encodeTerminalClientFrame({ type: 'resize', cols: 0, rows: 10 }));
  });

  it('take a data frame of the largest size', () => {
    const data = new Uint8Array(MAX_TERMINAL_DATA_BYTES).fill(7);
    const frame = encodeTerminalAgentFrame({ type: 'output', data });
    expect(frame.length).toBe(MAX_TERMINAL_FRAME_BYTES);
    const decoded = decodeTerminalAgentFrame(frame);
    // Compared as buffers: a deep equal of a million elements takes seconds.
    expect(decoded.type === 'output' && Buffer.from(decoded.data).equals(data)).toBe(true);
  });
});

describe('terminal attach requests', () => {
  it('default to 80x24 and reject unknown fields and bad ids', () => {
    expect(terminalAttachSchema.parse({ id: 'tab-1' })).toEqual({ id: 'tab-1', cols: 80, rows: 24 });
    expect(terminalAttachSchema.safeParse({ id: 'tab-1', shell: 'zsh' }).success).toBe(false);
    for (const id of ['', ' x', '../x', 'a'.repeat(129), 'ü'])
      expect(terminalAttachSchema.safeParse({ id }).success).toBe(false);
    expect(terminalAttachSchema.safeParse({ id: 'x', env: { '1BAD': 'v' } }).success).toBe(false);
  });
});

describe('terminal frame decoders under fuzzing', () => {
  const r = seededRandom(20261125);
  const valid = [
    ...clientFrames.map((f) => encodeTerminalClientFrame(f)),
    ...agentFrames.map((f) => encodeTerminalAgentFrame(f)),
  ];

  /** A random frame: noise, a valid frame mutated, or a known type byte with a random body. */
  function randomFrame(): Uint8Array {
    const kind = r.int(3);
    if (kind === 0) return Uint8Array.from({ length: r.int(48) }, () => r.int(256));
    if (kind === 1) return mutateBytes(r, r.pick(valid), r.int(4) + 1);
    const type = [0x00, 0x01, 0x80, 0x81, 0x82][r.int(5)] as number;
    return Uint8Array.from([type, ...Array.from({ length: r.int(12) }, () => r.int(256))]);
  }

  it('throw only WarrenError on 10,000 random frames, and what they accept re-encodes to the same bytes', () => {
    let accepted = 0;
    for (let i = 0; i < 10_000; i++) {
      const input = randomFrame();
      for (const [decode, encode] of [
        [decodeTerminalClientFrame, encodeTerminalClientFrame],
        [decodeTerminalAgentFrame, encodeTerminalAgentFrame],
      ] as const) {
        let frame: TerminalClientFrame | TerminalAgentFrame;
        try {
          frame = decode(input);
        } catch (error) {
          if (!(error instanceof WarrenError) || error.code !== 'INVALID_INPUT') throw error;
          continue;
        }
        accepted++;
        expect([...(encode as (f: typeof frame) => Uint8Array)(frame)]).toEqual([...input]);
      }
    }
    // The fuzzer reaches the accepting paths too, not just the first length check.
    expect(accepted).toBeGreaterThan(1000);
  });
});
