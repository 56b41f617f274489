import { describe, expect, it } from 'vitest';
import { type ModelRequest, parseModelRequest, upstreamBody } from './requestBody';

const request = (body: object) => {
  const raw = Buffer.from(JSON.stringify(body));
  return { raw, parsed: parseModelRequest(raw) as ModelRequest };
};

describe('upstreamBody', () => {
  it('forwards the client’s bytes untouched when nothing must change', () => {
    const { raw, parsed } = request({ model: 'gpt-4.1', messages: [], stream: false });
    expect(upstreamBody(raw, parsed, 'chat.completions', 'gpt-4.1')).toBe(raw);
    const streamed = request({ model: 'claude-x', messages: [], stream: true });
    expect(upstreamBody(streamed.raw, streamed.parsed, 'messages', 'claude-x')).toBe(streamed.raw);
  });

  it('asks for usage on every streamed chat completion, even when the client turned it off', () => {
    for (const body of [
      { model: 'gpt-4.1', messages: [{ role: 'user', content: '}' }], stream: true },
      { model: 'gpt-4.1', stream: true, stream_options: { include_usage: false } },
      { model: 'gpt-4.1', stream: true, stream_options: {} },
    ]) {
      const { raw, parsed } = request(body);
      const sent = JSON.parse(upstreamBody(raw, parsed, 'chat.completions', 'gpt-4.1').toString());
      expect(sent).toEqual({ ...body, stream_options: { include_usage: true } });
    }
  });

  it('names the model as the provider knows it when the client picked "provider/model"', () => {
    const { raw, parsed } = request({ model: 'work/gpt-4.1', messages: [] });
    expect(JSON.parse(upstreamBody(raw, parsed, 'chat.completions', 'gpt-4.1').toString())).toEqual({
      model: 'gpt-4.1',
      messages: [],
    });
  });
});

describe('parseModelRequest', () => {
  it('says what is wrong with a body it cannot use', () => {
    expect(parseModelRequest(Buffer.from('{"model":'))).toMatch(/not valid JSON/);
    expect(parseModelRequest(Buffer.from('[1]'))).toMatch(/JSON object/);
    expect(parseModelRequest(Buffer.from('{"messages":[]}'))).toMatch(/no "model"/);
    expect(parseModelRequest(undefined)).toMatch(/no body/);
  });
});
