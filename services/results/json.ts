// JSON results files, written and read through the same zod schema: a writer cannot write what
// a reader would refuse, and a reader's error names the file, the field and its line.
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { MAX_REPORTED_ISSUES } from './constants.js';
import { fileOpenError } from './csv.js';
import { MalformedResultsFileError } from './errors.js';

/**
 * Validates `value` against the file's schema and writes what the schema keeps (its fields, in
 * its order), pretty-printed unless `indent` is 0. A value the schema refuses is a bug in the writer: it throws.
 */
export function writeJsonFile<S extends z.ZodType>(
  file: string,
  schema: S,
  value: z.input<S>,
  options: { indent?: number } = {},
): void {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new MalformedResultsFileError(file, `refusing to write: ${describeIssues(parsed.error.issues)}`);
  }
  writeFileSync(file, `${JSON.stringify(parsed.data, null, options.indent ?? 2)}\n`);
}

/** Reads a JSON file and validates it; errors carry the line of the offending field. */
export async function readJsonFile<S extends z.ZodType>(file: string, schema: S): Promise<z.output<S>> {
  const text = await readTextFile(file);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new MalformedResultsFileError(
      file,
      `not valid JSON (${(err as Error).message.split('\n')[0]})`,
      jsonSyntaxErrorLine(text),
    );
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  throw new MalformedResultsFileError(file, describeIssues(issues), lineOfPathInText(text, issues[0]!.path));
}

export async function lineOfJsonPath(file: string, path: readonly PropertyKey[]): Promise<number | undefined> {
  return lineOfPathInText(await readTextFile(file), path);
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const described = issues
    .slice(0, MAX_REPORTED_ISSUES)
    .map((issue) => `${formatJsonPath(issue.path)}: ${issue.message.replace(/^Invalid input: /, '')}`);
  const more = issues.length > MAX_REPORTED_ISSUES ? ` (and ${issues.length - MAX_REPORTED_ISSUES} more)` : '';
  return described.join('; ') + more;
}

async function readTextFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw fileOpenError(file, err);
  }
}

function formatJsonPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  let out = '';
  for (const key of path) {
    out += typeof key === 'number' ? `[${key}]` : `${out === '' ? '' : '.'}${String(key)}`;
  }
  return out;
}

/** Line of the deepest existing node on `path`; computed only on the error path. */
function lineOfPathInText(text: string, path: readonly PropertyKey[]): number | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
    if (node?.range !== undefined) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}

/** JSON.parse on Node 20 gives no position; the YAML parser (a JSON superset) usually does. */
function jsonSyntaxErrorLine(text: string): number | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const pos = doc.errors[0]?.linePos?.[0];
  return pos?.line;
}
