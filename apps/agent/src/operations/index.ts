import {
  type AgentOperationName,
  type AgentOperationResult,
  agentOperations,
  isAgentOperationName,
  MAX_OPERATION_RESULT_BYTES,
  type ParsedAgentOperationParams,
  parseAgentOperationParams,
  WarrenError,
} from '@warren/core';
import { exec } from './exec';
import { editFile, readFile, writeFile } from './files';
import { listDir } from './listDir';
import type { OperationContext } from './paths';
import { listeningPorts } from './ports';
import { glob, grep } from './search';
import { stats } from './stats';

export { type ExecStreamHandlers, execStreaming } from './exec';
export type { OperationContext } from './paths';

type Implementations = {
  [N in AgentOperationName]: (
    params: ParsedAgentOperationParams<N>,
    context: OperationContext,
  ) => Promise<AgentOperationResult<N>>;
};

const implementations: Implementations = {
  exec,
  readFile,
  writeFile,
  editFile,
  listDir,
  glob,
  grep,
  listeningPorts: () => listeningPorts(),
  stats: (_params, context) => stats(context),
};

/**
 * Runs one operation for the daemon: validates `params` against the operation's schema, runs it
 * in the workspace `root`, and checks the result against its schema and the frame size before
 * handing it back. Failures are WarrenErrors whose messages can go to the user (or the model)
 * as they are.
 */
export function runAgentOperation<N extends AgentOperationName>(
  name: N,
  params: unknown,
  context: OperationContext,
): Promise<AgentOperationResult<N>>;
/** An operation named by a frame: an unknown name is INVALID_INPUT. */
export function runAgentOperation(name: string, params: unknown, context: OperationContext): Promise<unknown>;
export async function runAgentOperation(
  name: string,
  params: unknown,
  context: OperationContext,
): Promise<unknown> {
  if (!isAgentOperationName(name))
    throw new WarrenError('INVALID_INPUT', `"${name.slice(0, 64)}" is not an operation this agent knows.`);
  return run(name, params, context);
}

async function run<N extends AgentOperationName>(
  name: N,
  params: unknown,
  context: OperationContext,
): Promise<AgentOperationResult<N>> {
  const parsed = parseAgentOperationParams(name, params);
  const implementation = implementations[name] as Implementations[N];
  return checkResult(name, await implementation(parsed, context));
}

/** A result that breaks its schema or the frame limit is our bug; say so rather than send it. */
function checkResult<N extends AgentOperationName>(
  name: N,
  result: AgentOperationResult<N>,
): AgentOperationResult<N> {
  const checked = agentOperations[name].result.safeParse(result);
  if (!checked.success)
    throw new WarrenError(
      'INTERNAL',
      `The agent produced an invalid ${name} result; this is a bug in the agent.`,
    );
  const bytes = Buffer.byteLength(JSON.stringify(result));
  if (bytes > MAX_OPERATION_RESULT_BYTES)
    throw new WarrenError('INTERNAL', `The agent's ${name} result is ${bytes} bytes, over the frame limit.`);
  return result;
}
