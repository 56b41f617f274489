import { WarrenError } from '@warren/core';
import { describe, expect, it } from 'vitest';
import { subscriptionMessage } from './sse';

describe('subscriptionMessage', () => {
  it('parses a data event’s JSON, whether the event is unnamed or named "message"', () => {
    for (const event of ['', 'message']) {
      expect(subscriptionMessage({ event, data: '{"seq":3,"line":"x"}' })).toEqual({
        type: 'data',
        value: { seq: 3, line: 'x' },
      });
    }
  });

  it('turns the server’s serialized error into a WarrenError with its code and sentence', () => {
    const message = subscriptionMessage({
      event: 'serialized-error',
      data: '{"code":-32004,"message":"No workspace is named \\"nope\\".","data":{"code":"NOT_FOUND","httpStatus":404}}',
    });
    expect(message.type).toBe('error');
    const error = (message as { error: WarrenError }).error;
    expect(error).toBeInstanceOf(WarrenError);
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe('No workspace is named "nope".');
  });

  it('reports an error it cannot read as an upstream problem rather than crashing', () => {
    const garbled = subscriptionMessage({ event: 'serialized-error', data: '<html>' });
    expect(garbled).toMatchObject({ type: 'error', error: { code: 'UPSTREAM' } });
    expect(subscriptionMessage({ event: 'message', data: 'not json' })).toMatchObject({
      type: 'error',
      error: { code: 'UPSTREAM' },
    });
  });

  it('ends at return and ignores the housekeeping events', () => {
    expect(subscriptionMessage({ event: 'return', data: '' })).toEqual({ type: 'return' });
    for (const event of ['connected', 'ping', 'restore-id']) {
      expect(subscriptionMessage({ event, data: '{}' })).toEqual({ type: 'ignore' });
    }
  });
});
