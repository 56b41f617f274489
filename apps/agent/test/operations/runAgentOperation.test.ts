import { agentOperations, MAX_EXEC_OUTPUT_BYTES, MAX_OPERATION_RESULT_BYTES } from '@warren/core';
import { describe, expect, it } from 'vitest';
import { runAgentOperation } from '../../src/operations';
import { failure, tempWorkspace } from './tempWorkspace';

describe('runAgentOperation', () => {
  it('refuses an operation it does not know', async () => {
    const error = await failure(runAgentOperation('rmrf', {}, { root: '/' }));
    expect(error).toMatchObject({
      code: 'INVALID_INPUT',
      message: '"rmrf" is not an operation this agent knows.',
    });
  });

  it('refuses params that break the schema with a sentence naming the field', async () => {
    const error = await failure(runAgentOperation('readFile', { path: 'a', offset: 0 }, { root: '/' }));
    expect(error).toMatchObject({ code: 'INVALID_INPUT' });
    expect(error.message).toMatch(/^Invalid readFile request\. Field "offset"/);
  });

  it('keeps the largest exec output within one frame even when every byte needs escaping', async () => {
    const root = tempWorkspace();
    // 3 MB of ESC characters on each stream: 6 bytes apiece once JSON-encoded.
    const command =
      "head -c 3000000 /dev/zero | tr '\\0' '\\033'; head -c 3000000 /dev/zero | tr '\\0' '\\033' >&2";
    const result = await runAgentOperation(
      'exec',
      { command, maxOutputBytes: MAX_EXEC_OUTPUT_BYTES },
      { root },
    );
    expect(result.truncated).toBe(true);
    expect(agentOperations.exec.result.safeParse(result).success).toBe(true);
    const bytes = Buffer.byteLength(JSON.stringify(result));
    expect(bytes).toBeLessThanOrEqual(MAX_OPERATION_RESULT_BYTES);
    expect(bytes).toBeGreaterThan(MAX_EXEC_OUTPUT_BYTES * 0.9);
    expect(result.stdout).toMatch(/\[\.\.\. \d+ bytes of output cut \.\.\.\]/);
    expect(result.stderr).toMatch(/\[\.\.\. \d+ bytes of output cut \.\.\.\]/);
  });
});
