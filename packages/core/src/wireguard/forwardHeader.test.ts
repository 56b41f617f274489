import { describe, expect, it } from 'vitest';
import { mutateBytes, seededRandom } from '../../test-support/seededRandom';
import { WarrenError } from '../errors/WarrenError';
import {
  type Decoded,
  decodeForwardAnswer,
  decodeForwardRequest,
  encodeForwardAnswer,
  encodeForwardRequest,
  FORWARD_REQUEST_BYTES,
  FORWARD_TICKET_BYTES,
} from './forwardHeader';

const ticket = Uint8Array.from({ length: FORWARD_TICKET_BYTES }, (_, i) => i * 7);

describe('port forward header', () => {
  it('a request survives the trip, arriving one byte at a time, and keeps the bytes after it', () => {
    const request = encodeForwardRequest({ ticket, port: 8088 });
    const wire = Uint8Array.from([...request, 1, 2, 3]);
    for (let n = 0; n < FORWARD_REQUEST_BYTES; n++)
      expect(decodeForwardRequest(wire.subarray(0, n))).toEqual({ done: false });
    const decoded = decodeForwardRequest(wire);
    expect(decoded).toMatchObject({ done: true, value: { port: 8088 } });
    if (!decoded.done) throw new Error('not decoded');
    expect([...decoded.value.ticket]).toEqual([...ticket]);
    expect([...decoded.rest]).toEqual([1, 2, 3]);
  });

  it('a stray client is refused on its first byte, not after a timeout', () => {
    expect(() => decodeForwardRequest(new TextEncoder().encode('G'))).toThrow(/Warren port forwards only/);
    expect(() => decodeForwardRequest(new TextEncoder().encode('SSH-2.0-OpenSSH_9.2\r\n'))).toThrow(
      WarrenError,
    );
  });

  it('another version, port 0 and a short ticket are refused with a sentence', () => {
    const request = encodeForwardRequest({ ticket, port: 22 });
    const future = Uint8Array.from(request);
    future[4] = 2;
    expect(() => decodeForwardRequest(future.subarray(0, 5))).toThrow(
      /version 2 is not one this agent speaks/,
    );
    const zero = Uint8Array.from(request);
    zero[FORWARD_REQUEST_BYTES - 2] = 0;
    zero[FORWARD_REQUEST_BYTES - 1] = 0;
    expect(() => decodeForwardRequest(zero)).toThrow(/port 0/);
    expect(() => encodeForwardRequest({ ticket: ticket.subarray(1), port: 22 })).toThrow(/32 bytes/);
    expect(() => encodeForwardRequest({ ticket, port: 70000 })).toThrow(/not a TCP port/);
  });

  it('answers carry a status and a sentence, cut to fit at a character boundary', () => {
    expect([...encodeForwardAnswer({ status: 'ok', message: '' })]).toEqual([0, 0]);
    const refused = encodeForwardAnswer({ status: 'refused', message: 'Nothing listens on port 3000.' });
    expect(decodeForwardAnswer(refused.subarray(0, 5))).toEqual({ done: false });
    expect(decodeForwardAnswer(refused)).toMatchObject({
      done: true,
      value: { status: 'refused', message: 'Nothing listens on port 3000.' },
    });
    const long = encodeForwardAnswer({ status: 'unreachable', message: 'é'.repeat(300) });
    const decoded = decodeForwardAnswer(long);
    expect(decoded.done && decoded.value.message).toBe('é'.repeat(127));
    expect(() => decodeForwardAnswer(Uint8Array.from([0, 3, 65, 66, 67]))).toThrow(/ok answer/);
    expect(() => decodeForwardAnswer(Uint8Array.from([9]))).toThrow(/not an answer status/);
    expect(() => decodeForwardAnswer(Uint8Array.from([2, 1, 0xff]))).toThrow(/not UTF-8/);
  });
});

describe('port forward header decoders under fuzzing', () => {
  const r = seededRandom(20261126);
  const valid = [
    encodeForwardRequest({ ticket, port: 1 }),
    encodeForwardRequest({ ticket, port: 65535 }),
    encodeForwardAnswer({ status: 'ok', message: '' }),
    encodeForwardAnswer({ status: 'forbidden', message: 'This ticket is not valid.' }),
  ];

  /** Noise, or a valid header with a few bytes changed, dropped or added. */
  function randomInput(): Uint8Array {
    if (r.int(3) === 0) return Uint8Array.from({ length: r.int(64) }, () => r.int(256));
    return mutateBytes(r, r.pick(valid), r.int(3));
  }

  it('throw only WarrenError on 20,000 random inputs, and what they accept re-encodes to the same bytes', () => {
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const input = randomInput();
      for (const [decode, encode] of [
        [decodeForwardRequest, encodeForwardRequest],
        [decodeForwardAnswer, encodeForwardAnswer],
      ] as const) {
        let decoded: Decoded<unknown>;
        try {
          decoded = decode(input);
        } catch (error) {
          expect(error).toBeInstanceOf(WarrenError);
          continue;
        }
        if (!decoded.done) continue;
        accepted++;
        const used = input.subarray(0, input.byteLength - decoded.rest.byteLength);
        expect([...(encode as (value: unknown) => Uint8Array)(decoded.value)]).toEqual([...used]);
      }
    }
    expect(accepted).toBeGreaterThan(2000);
  });
});
