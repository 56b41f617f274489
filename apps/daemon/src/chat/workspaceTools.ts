import {
  type AgentOperationName,
  type AgentOperationParams,
  type AgentOperationResult,
  agentOperations,
  WarrenError,
} from '@warren/core';
import { type ToolSet, tool, zodSchema } from 'ai';
import { z } from 'zod';

/** The daemon side of the agent's operations (AgentRpc): what the tools need of it. */
export interface WorkspaceAgentCaller {
  call(
    workspaceId: string,
    op: string,
    params: unknown,
    options?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<unknown>;
}

/** A tool's answer to the model is cut to this many characters, head and tail kept. */
export const MAX_TOOL_OUTPUT_CHARS = 32_000;
const COMMAND_OUTPUT_BYTES = 48 * 1024;
const DEFAULT_COMMAND_SECONDS = 120;
const MAX_COMMAND_SECONDS = 1800;
/** Time the agent gets beyond a command's own timeout to kill it and answer. */
const ANSWER_GRACE_MS = 10_000;

export function truncateForModel(text: string, max = MAX_TOOL_OUTPUT_CHARS): string {
  if (text.length <= max) return text;
  const half = Math.floor(max / 2);
  const cut = text.length - 2 * half;
  return `${text.slice(0, half)}\n[... ${cut} characters cut ...]\n${text.slice(-half)}`;
}

// Input schemas built once: the SDK derives each one's JSON schema on first use and keeps it.
const runCommandInput = zodSchema(
  z.object({
    command: z.string().min(1),
    cwd: z.string().optional().describe('Working directory; defaults to the workspace directory.'),
    timeoutSeconds: z.number().int().min(1).max(MAX_COMMAND_SECONDS).optional(),
  }),
);
const readFileInput = zodSchema(
  z.object({
    path: z.string().min(1),
    offset: z.number().int().min(1).optional(),
    limit: z.number().int().min(1).max(5000).optional(),
  }),
);
const writeFileInput = zodSchema(z.object({ path: z.string().min(1), content: z.string() }));
const editFileInput = zodSchema(
  z.object({
    path: z.string().min(1),
    oldText: z.string().min(1),
    newText: z.string(),
    replaceAll: z.boolean().optional(),
  }),
);
const listFilesInput = zodSchema(
  z.object({
    path: z.string().optional().describe('Directory to list, or the base of pattern.'),
    pattern: z.string().optional(),
  }),
);
const grepInput = zodSchema(
  z.object({
    pattern: z.string().min(1),
    path: z.string().optional(),
    glob: z.string().optional().describe('Only files matching this glob, e.g. "*.ts".'),
    caseInsensitive: z.boolean().optional(),
  }),
);

/**
 * The tools that act in the chat's workspace, each one agent operation. Every answer is
 * validated against the operation's result schema (the agent is on the other side of a
 * socket) and turned into text the model reads; a failure is thrown, so the model gets the
 * error as the tool's result and the turn goes on.
 */
export function workspaceTools(agent: WorkspaceAgentCaller, workspaceId: string): ToolSet {
  async function op<N extends AgentOperationName>(
    name: N,
    params: AgentOperationParams<N>,
    signal: AbortSignal | undefined,
    timeoutMs?: number,
  ): Promise<AgentOperationResult<N>> {
    const raw = await agent.call(workspaceId, name, params, { signal, timeoutMs });
    const parsed = agentOperations[name].result.safeParse(raw);
    if (!parsed.success)
      throw new WarrenError(
        'UPSTREAM',
        `The workspace agent answered "${name}" with a result Warren cannot read.`,
      );
    return parsed.data as AgentOperationResult<N>;
  }

  return {
    run_command: tool({
      description:
        'Run a shell command (/bin/sh -c) in the workspace and return its exit code and output. ' +
        'Long output is cut in the middle. Use timeoutSeconds for long builds or tests.',
      inputSchema: runCommandInput,
      execute: async ({ command, cwd, timeoutSeconds }, { abortSignal }) => {
        const timeoutMs = (timeoutSeconds ?? DEFAULT_COMMAND_SECONDS) * 1000;
        const r = await op(
          'exec',
          { command, cwd, timeoutMs, maxOutputBytes: COMMAND_OUTPUT_BYTES },
          abortSignal,
          timeoutMs + ANSWER_GRACE_MS,
        );
        const status = r.timedOut
          ? `timed out after ${timeoutMs / 1000} s (killed by ${r.signal ?? 'a signal'})`
          : r.exitCode === null
            ? `ended by ${r.signal}`
            : `exit code ${r.exitCode}`;
        const out = [status];
        if (r.stdout) out.push(`stdout:\n${r.stdout}`);
        if (r.stderr) out.push(`stderr:\n${r.stderr}`);
        return truncateForModel(out.join('\n'));
      },
    }),

    read_file: tool({
      description: 'Read a text file of the workspace, by lines (offset counts from 1).',
      inputSchema: readFileInput,
      execute: async ({ path, offset, limit }, { abortSignal }) => {
        const r = await op('readFile', { path, offset, limit }, abortSignal);
        const more = r.truncated ? ` (more from line ${r.endLine + 1})` : '';
        const head = `${r.path}: lines ${r.startLine}-${r.endLine} of ${r.totalLines}${more}`;
        return truncateForModel(`${head}\n${r.content}`);
      },
    }),

    write_file: tool({
      description: 'Write a whole file in the workspace (created with its directories if missing).',
      inputSchema: writeFileInput,
      execute: async ({ path, content }, { abortSignal }) => {
        const r = await op('writeFile', { path, content, createDirs: true }, abortSignal);
        return `${r.created ? 'Created' : 'Wrote'} ${r.path} (${r.bytes} bytes).`;
      },
    }),

    edit_file: tool({
      description:
        'Replace exact text in a workspace file. oldText must match exactly once (whitespace included) ' +
        'unless replaceAll is true.',
      inputSchema: editFileInput,
      execute: async (input, { abortSignal }) => {
        const r = await op('editFile', input, abortSignal);
        return `Edited ${r.path}: ${r.replacements} replacement${r.replacements === 1 ? '' : 's'}.`;
      },
    }),

    list_files: tool({
      description:
        'List a directory of the workspace, or with pattern, find files by glob (e.g. "src/**/*.ts").',
      inputSchema: listFilesInput,
      execute: async ({ path, pattern }, { abortSignal }) => {
        if (pattern) {
          const r = await op('glob', { pattern, cwd: path }, abortSignal);
          const more = r.truncated ? '\n(more matches not shown)' : '';
          return truncateForModel(`${r.paths.length} files under ${r.cwd}:\n${r.paths.join('\n')}${more}`);
        }
        const r = await op('listDir', { path: path ?? '.' }, abortSignal);
        const lines = r.entries.map((e) => `${e.type === 'dir' ? `${e.name}/` : e.name}\t${e.size}`);
        const more = r.truncated ? `\n(${r.totalEntries - r.entries.length} more not shown)` : '';
        return truncateForModel(`${r.path}:\n${lines.join('\n')}${more}`);
      },
    }),

    grep: tool({
      description: 'Search workspace files for a regular expression, line by line.',
      inputSchema: grepInput,
      execute: async (input, { abortSignal }) => {
        const r = await op('grep', input, abortSignal);
        const lines = r.matches.map((m) => `${m.path}:${m.line}: ${m.text}`);
        const more = r.truncated ? '\n(more matches not shown)' : '';
        return truncateForModel(
          `${r.matches.length} matches in ${r.filesSearched} files:\n${lines.join('\n')}${more}`,
        );
      },
    }),
  };
}
