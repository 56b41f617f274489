import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type YAMLError,
} from 'yaml';
import { manifestSchema, type TemplateManifest } from './manifest';
import { manifestIssueErrors } from './manifestIssueErrors';

/** One problem in a manifest, at the line and column (1-based) of the field it names. */
export interface ManifestError {
  line: number;
  column: number;
  /** Where in the manifest, e.g. `parameters[1].validation.min`; empty for the whole document. */
  path: string;
  message: string;
}

export type ManifestParseResult =
  | { ok: true; manifest: TemplateManifest }
  | { ok: false; errors: ManifestError[] };

export const maxManifestBytes = 256 * 1024;

/** Reads a `warren.yaml`: YAML syntax, then the manifest schema, each error placed on its line. */
export function parseManifest(yamlText: string): ManifestParseResult {
  const bytes = new TextEncoder().encode(yamlText).length;
  if (bytes > maxManifestBytes)
    return fail(
      `The manifest is ${Math.ceil(bytes / 1024)} KiB; a manifest may be at most ${maxManifestBytes / 1024} KiB.`,
    );

  const lineCounter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter, prettyErrors: false });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line: Math.max(1, line), column: Math.max(1, col) };
  };
  if (doc.errors.length > 0)
    return failWith(
      doc.errors.map((e) => ({ ...at(e.pos[0]), path: '', message: syntaxMessage(e, yamlText) })),
    );

  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null))
    return fail('The manifest is empty; it needs at least "name" and "provisioner".');
  if (!isMap(root))
    return failWith([
      {
        ...at(root.range[0]),
        path: '',
        message: `The manifest must be a mapping of fields ("name: ...", "provisioner: ..."), not ${isSeq(root) ? 'a list' : 'a single value'}.`,
      },
    ]);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail(`The manifest could not be read: ${reason.replace(/\.?$/, '.')}`);
  }

  const parsed = manifestSchema.safeParse(data);
  if (parsed.success) return { ok: true, manifest: parsed.data };
  return failWith(
    manifestIssueErrors(parsed.error.issues, data).map(({ path, message, pointAtKey }) => {
      const found = locate(doc, path);
      return { ...at(pointAtKey ? found.key : found.value), path: formatPath(path), message };
    }),
  );
}

/** `warren.yaml:12:5: parameters[1].default: ...`, one line per error. */
export function formatManifestErrors(errors: readonly ManifestError[], fileName = 'warren.yaml'): string {
  return errors
    .map((e) => `${fileName}:${e.line}:${e.column}: ${e.path === '' ? '' : `${e.path}: `}${e.message}`)
    .join('\n');
}

/** `parameters[1].validation.min`; keys that are not identifiers are quoted: `env["MY-VAR"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, i) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const key = String(segment);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return `[${JSON.stringify(key)}]`;
      return i === 0 ? key : `.${key}`;
    })
    .join('');
}

function fail(message: string): ManifestParseResult {
  return { ok: false, errors: [{ line: 1, column: 1, path: '', message }] };
}

function failWith(errors: ManifestError[]): ManifestParseResult {
  const unique = new Map(errors.map((e) => [`${e.line}:${e.column}:${e.path}:${e.message}`, e]));
  return {
    ok: false,
    errors: [...unique.values()].sort((a, b) => a.line - b.line || a.column - b.column),
  };
}

function syntaxMessage(error: YAMLError, text: string): string {
  switch (error.code) {
    case 'DUPLICATE_KEY':
      return `The key ${JSON.stringify(keyAt(text, error.pos[0]))} appears twice in the same mapping.`;
    case 'MULTIPLE_DOCS':
      return 'A manifest is one YAML document; remove the "---" line and what follows it.';
    case 'TAB_AS_INDENT':
      return 'YAML is indented with spaces; replace the tab.';
    default:
      return `YAML syntax error: ${error.message.replace(/\.?$/, '.')}`;
  }
}

/** The key written at `offset`: `name` in `name: x`, `a b` in `"a b": x`. */
function keyAt(text: string, offset: number): string {
  const line = text.slice(offset).split('\n', 1)[0] ?? '';
  const quoted = /^(["'])(.*?)\1/.exec(line);
  return quoted?.[2] ?? line.split(/:(\s|$)/, 1)[0]?.trim() ?? line;
}

/**
 * Offsets for an issue path: `value` is the node the path names (a written scalar itself,
 * a collection or empty value by its key) or, when the path goes past what exists, the key of the nearest
 * existing parent; `key` is the key of the named field.
 */
function locate(doc: Document.Parsed, path: readonly PropertyKey[]): { key: number; value: number } {
  let node: unknown = doc.contents;
  let anchor = doc.contents?.range[0] ?? 0;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    let next: { key: unknown; value: unknown } | undefined;
    if (isMap(node))
      next = node.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === String(segment));
    else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length)
      next = { key: node.items[segment], value: node.items[segment] };
    if (next === undefined) return { key: anchor, value: anchor };
    anchor = startOf(next.key) ?? anchor;
    node = next.value;
  }
  // An empty value (`name:`) has a zero-width node after the colon; its key reads better.
  const written = isScalar(node) && node.range != null && node.range[0] < node.range[1];
  return { key: anchor, value: written ? (startOf(node) ?? anchor) : anchor };
}

function startOf(node: unknown): number | undefined {
  const range = (node as { range?: unknown } | null)?.range;
  return Array.isArray(range) && typeof range[0] === 'number' ? range[0] : undefined;
}
