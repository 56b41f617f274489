import { z } from 'zod';
import { describeIssues } from '../errors/describeIssues';
import { WarrenError } from '../errors/WarrenError';
import { jsonStringBytes } from './jsonBytes';
import { MAX_AGENT_FRAME_BYTES } from './protocol';

export * from './jsonBytes';

/**
 * The operations the daemon asks a workspace agent to run for the chat tools and the UI: exec,
 * files, search, ports and stats. Each has a params schema (what the daemon sends) and a result
 * schema (what the agent answers). Both travel inside one agent frame, so every limit below is
 * chosen to keep a request and its result under MAX_AGENT_FRAME_BYTES once JSON-encoded.
 * Relative paths resolve against the workspace directory the agent runs in; absolute paths are
 * allowed (the user owns the workspace).
 */

const KiB = 1024;
const MiB = 1024 * KiB;

/** A result's JSON must fit in this many bytes: the frame limit less room for the envelope. */
export const MAX_OPERATION_RESULT_BYTES = MAX_AGENT_FRAME_BYTES - 32 * KiB;
/** readFile, editFile and grep refuse or skip files larger than this. */
export const MAX_TEXT_FILE_BYTES = 10 * MiB;
/** writeFile content, and editFile oldText + newText, at most this many bytes once JSON-encoded. */
export const MAX_WRITE_JSON_BYTES = MAX_AGENT_FRAME_BYTES - 64 * KiB;
/** exec keeps at most this much of stdout and stderr together (bytes once JSON-encoded). */
export const MAX_EXEC_OUTPUT_BYTES = 960 * KiB;
export const DEFAULT_EXEC_OUTPUT_BYTES = 64 * KiB;
export const DEFAULT_EXEC_TIMEOUT_MS = 120_000;
export const MAX_EXEC_TIMEOUT_MS = 3_600_000;
/** readFile cuts longer lines, and grep cuts matched lines, to these many characters. */
export const MAX_READ_LINE_CHARS = 2000;
export const MAX_GREP_LINE_CHARS = 500;
export const DEFAULT_READ_LINES = 2000;
export const MAX_PATH_CHARS = 4096;

const pathSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_PATH_CHARS)
  .refine((p) => !p.includes('\0'), 'must not contain a NUL character');
const count = (max: number) => z.number().int().min(1).max(max);
const fitsFrame = (max: number) => (text: string) => jsonStringBytes(text) <= max;
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'is not a valid environment variable name');

export const execParamsSchema = z
  .object({
    command: z
      .string()
      .min(1)
      .max(64 * KiB)
      .describe('A shell command, run by /bin/sh -c.'),
    cwd: pathSchema.optional().describe('Working directory; defaults to the workspace directory.'),
    env: z
      .record(envName, z.string().max(32 * KiB))
      .refine((env) => Object.keys(env).length <= 256, 'may set at most 256 variables')
      .optional()
      .describe('Variables added to the agent environment.'),
    timeoutMs: z
      .number()
      .int()
      .min(1)
      .max(MAX_EXEC_TIMEOUT_MS)
      .default(DEFAULT_EXEC_TIMEOUT_MS)
      .describe('After this the whole process group is killed (SIGTERM, then SIGKILL 2 s later).'),
    maxOutputBytes: z
      .number()
      .int()
      .min(1 * KiB)
      .max(MAX_EXEC_OUTPUT_BYTES)
      .default(DEFAULT_EXEC_OUTPUT_BYTES)
      .describe(
        'Cap on stdout and stderr together; beyond it the middle is cut, keeping head and tail. ' +
          'Counted as JSON bytes so the result fits one 1 MiB frame.',
      ),
  })
  .strict();

export const execResultSchema = z
  .object({
    exitCode: z.number().int().nullable(),
    /** The signal that ended the shell (a timeout shows SIGTERM or SIGKILL). */
    signal: z.string().max(32).nullable(),
    timedOut: z.boolean(),
    stdout: z.string(),
    stderr: z.string(),
    /** Some output was cut; the text holds a marker line saying how many bytes. */
    truncated: z.boolean(),
    durationMs: z.number().min(0),
  })
  .strict();

export const readFileParamsSchema = z
  .object({
    path: pathSchema,
    offset: count(Number.MAX_SAFE_INTEGER).default(1).describe('First line to read, counting from 1.'),
    limit: count(100_000).default(DEFAULT_READ_LINES).describe('How many lines to read at most.'),
  })
  .strict();

export const readFileResultSchema = z
  .object({
    /** The absolute, normalised path that was read. */
    path: z.string(),
    /** Lines startLine..endLine joined by "\n", without a final newline; CR characters are kept. */
    content: z.string(),
    totalLines: z.number().int().min(0),
    startLine: z.number().int().min(1),
    /** startLine - 1 when nothing was read (an empty file). */
    endLine: z.number().int().min(0),
    /** Lines after endLine were not returned (limit or the 1 MiB frame); read on from endLine + 1. */
    truncated: z.boolean(),
    /** Lines longer than MAX_READ_LINE_CHARS that were cut, with a marker. */
    longLinesCut: z.number().int().min(0),
  })
  .strict();

export const writeFileParamsSchema = z
  .object({
    path: pathSchema,
    content: z
      .string()
      .refine(
        fitsFrame(MAX_WRITE_JSON_BYTES),
        `must be at most ${MAX_WRITE_JSON_BYTES / KiB} KiB once JSON-encoded`,
      )
      .describe('The whole new content of the file (UTF-8).'),
    createDirs: z.boolean().default(false).describe('Create missing parent directories.'),
  })
  .strict();

export const writeFileResultSchema = z
  .object({ path: z.string(), bytes: z.number().int().min(0), created: z.boolean() })
  .strict();

export const editFileParamsSchema = z
  .object({
    path: pathSchema,
    oldText: z.string().min(1, 'must not be empty').describe('Exact text to replace, whitespace included.'),
    newText: z.string(),
    replaceAll: z.boolean().default(false).describe('Replace every occurrence instead of exactly one.'),
  })
  .strict()
  .refine(
    (p) => jsonStringBytes(p.oldText) + jsonStringBytes(p.newText) <= MAX_WRITE_JSON_BYTES,
    `oldText and newText together must be at most ${MAX_WRITE_JSON_BYTES / KiB} KiB once JSON-encoded`,
  );

export const editFileResultSchema = z
  .object({ path: z.string(), replacements: z.number().int().min(1) })
  .strict();

export const listDirParamsSchema = z
  .object({
    path: pathSchema.default('.'),
    limit: count(10_000).default(1000),
  })
  .strict();

export const dirEntryTypes = ['file', 'dir', 'symlink', 'other'] as const;

export const listDirResultSchema = z
  .object({
    path: z.string(),
    /** Sorted by name; a symlink is reported as such, not followed. */
    entries: z.array(
      z
        .object({
          name: z.string(),
          type: z.enum(dirEntryTypes),
          size: z.number().int().min(0),
          modifiedMs: z.number(),
        })
        .strict(),
    ),
    totalEntries: z.number().int().min(0),
    truncated: z.boolean(),
  })
  .strict();

export const globParamsSchema = z
  .object({
    pattern: z
      .string()
      .min(1)
      .max(1024)
      .describe('Glob with **, *, ?, {a,b} and [ab]. .git and node_modules are skipped unless named.'),
    cwd: pathSchema.optional().describe('Directory the pattern is relative to; defaults to the workspace.'),
    limit: count(10_000).default(1000),
  })
  .strict();

export const globResultSchema = z
  .object({
    /** The absolute directory the paths are relative to. */
    cwd: z.string(),
    /** Matching files (not directories), most recently modified first. */
    paths: z.array(z.string()),
    truncated: z.boolean(),
  })
  .strict();

export const grepParamsSchema = z
  .object({
    pattern: z.string().min(1).max(4096).describe('A JavaScript regular expression, tested line by line.'),
    path: pathSchema.optional().describe('File or directory to search; defaults to the workspace.'),
    glob: z.string().min(1).max(1024).optional().describe('Only files matching this glob, e.g. "*.ts".'),
    caseInsensitive: z.boolean().default(false),
    maxMatches: count(2000).default(200),
  })
  .strict();

export const grepResultSchema = z
  .object({
    /** Paths are relative to the workspace directory when inside it, absolute otherwise. */
    matches: z.array(
      z
        .object({
          path: z.string(),
          line: z.number().int().min(1),
          text: z.string().describe(`The line, cut to ${MAX_GREP_LINE_CHARS} characters around the match.`),
        })
        .strict(),
    ),
    truncated: z.boolean(),
    filesSearched: z.number().int().min(0),
  })
  .strict();

export const listeningPortsParamsSchema = z.object({}).strict();

export const listeningPortsResultSchema = z
  .object({
    ports: z.array(
      z
        .object({
          port: z.number().int().min(1).max(65_535),
          protocol: z.enum(['tcp', 'tcp6']),
          address: z.string(),
          /** Only when the agent may read the owning process's file descriptors. */
          pid: z.number().int().positive().optional(),
          process: z.string().optional(),
        })
        .strict(),
    ),
  })
  .strict();

export const statsParamsSchema = z.object({}).strict();

export const statsResultSchema = z
  .object({
    cpuPercent: z.number().min(0).max(100),
    memoryUsedBytes: z.number().min(0),
    memoryTotalBytes: z.number().min(0),
    /** Of the filesystem holding the workspace directory. */
    diskUsedBytes: z.number().min(0),
    diskTotalBytes: z.number().min(0),
    loadAverage: z.tuple([z.number(), z.number(), z.number()]),
    uptimeSeconds: z.number().min(0),
  })
  .strict();

export const agentOperations = {
  exec: { params: execParamsSchema, result: execResultSchema },
  readFile: { params: readFileParamsSchema, result: readFileResultSchema },
  writeFile: { params: writeFileParamsSchema, result: writeFileResultSchema },
  editFile: { params: editFileParamsSchema, result: editFileResultSchema },
  listDir: { params: listDirParamsSchema, result: listDirResultSchema },
  glob: { params: globParamsSchema, result: globResultSchema },
  grep: { params: grepParamsSchema, result: grepResultSchema },
  listeningPorts: { params: listeningPortsParamsSchema, result: listeningPortsResultSchema },
  stats: { params: statsParamsSchema, result: statsResultSchema },
} as const;

export type AgentOperationName = keyof typeof agentOperations;
export const agentOperationNames = Object.keys(agentOperations) as AgentOperationName[];
/** What a caller sends: optional fields may be left out. */
export type AgentOperationParams<N extends AgentOperationName> = z.input<
  (typeof agentOperations)[N]['params']
>;
/** Params after validation, defaults filled in: what the agent's implementation receives. */
export type ParsedAgentOperationParams<N extends AgentOperationName> = z.output<
  (typeof agentOperations)[N]['params']
>;
export type AgentOperationResult<N extends AgentOperationName> = z.output<
  (typeof agentOperations)[N]['result']
>;

export function isAgentOperationName(value: unknown): value is AgentOperationName {
  return typeof value === 'string' && Object.hasOwn(agentOperations, value);
}

/** Validates an operation's params; throws INVALID_INPUT with sentences naming the fields. */
export function parseAgentOperationParams<N extends AgentOperationName>(
  name: N,
  params: unknown,
): ParsedAgentOperationParams<N> {
  const parsed = agentOperations[name].params.safeParse(params);
  if (!parsed.success)
    throw new WarrenError('INVALID_INPUT', `Invalid ${name} request. ${describeIssues(parsed.error.issues)}`);
  return parsed.data as ParsedAgentOperationParams<N>;
}
