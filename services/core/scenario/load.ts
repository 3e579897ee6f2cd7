// Turning scenario YAML text into a validated Scenario, with every problem reported as
// `file.yaml:LINE: field.path: what is wrong — fix: how`. Reading the file is runtime/plan.ts's:
// services/core does not touch the file system.

import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type * as z from 'zod';
import { ScenarioError, type ScenarioIssue } from './errors.js';
import { formatPath, ScenarioSchema, type Scenario } from './schema.js';

/** Parses and validates scenario YAML; fileName is only used in messages. */
export function parseScenario(text: string, fileName: string): Scenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      fileName,
      doc.errors.map((e) => ({
        path: '',
        line: lineCounter.linePos(e.pos[0]).line,
        message: `YAML syntax: ${firstLine(e.message)} — fix: check indentation, colons and brackets on this line or the one before`,
      })),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    // e.g. an alias bomb or an unresolvable alias: still the user's file, so no stack trace.
    throw new ScenarioError(fileName, [
      { path: '', line: 1, message: `YAML could not be read: ${(err as Error).message} — fix: avoid anchors/aliases` },
    ]);
  }
  const result = ScenarioSchema.safeParse(raw);
  if (result.success) return result.data;
  const issues = result.error.issues.flatMap((issue) => describeIssue(issue, raw, doc, lineCounter));
  issues.sort((a, b) => a.line - b.line || a.path.localeCompare(b.path));
  throw new ScenarioError(fileName, dedupe(issues));
}

// ---- zod issue → user message ------------------------------------------------------------------

/** How to write a field right, by field name (the last path segment). */
const FIELD_HINTS: Record<string, string> = {
  name: 'use lowercase letters, digits and dashes, e.g. world-small',
  seed: 'any whole number, e.g. 42',
  durationS: 'the broadcast length in seconds, e.g. 60',
  bitrateBps: 'write bit/s, e.g. 3e6 for 3 Mbit/s',
  chunkDurationMs: 'the chunk duration in ms, e.g. 250',
  keyframeIntervalChunks: 'a whole number of chunks ≥ 1 (1 = every chunk starts with a keyframe)',
  fragmentBytes: 'a whole number of bytes ≥ 1, e.g. 4096',
  pathInflation: 'a factor ≥ 1 (real routes are never shorter than the great circle), e.g. 1.5',
  fiberKmPerMs: 'about 200 for fibre; nothing is faster than light (≈ 300 km/ms)',
  lat: 'decimal degrees in [-90, 90], north positive, e.g. 50.1 for Frankfurt',
  lon: 'decimal degrees in [-180, 180], east positive, e.g. -74.0 for New York',
  uplinkBps: 'write bit/s, e.g. 50e6 for 50 Mbit/s',
  downlinkBps: 'write bit/s, e.g. 100e6 for 100 Mbit/s',
  bandwidthBps: 'write bit/s, e.g. 1e9 for 1 Gbit/s',
  latencyMs: 'one-way latency in ms, ≥ 0',
  count: 'a whole number of viewers ≥ 1',
  radiusKm: 'a radius in km ≥ 0, e.g. 40',
  id: 'letters, digits, ".", "_" and "-", starting with a letter or digit',
  a: 'the id of a node in graph.nodes',
  b: 'the id of a node in graph.nodes',
  parent: 'the id of the origin or of another edge',
  region: 'a short label of letters, digits, ".", "_" and "-"',
  role: 'e.g. `role: peer` for a viewer, `role: switch` for a plain forwarding node',
  kind: 'e.g. `kind: kill` (vanishes without notice), `kind: leave` (graceful) or `kind: join`',
  atS: 'seconds from the broadcast start, ≥ 0',
  fraction: 'a share of the viewers present, in (0, 1], e.g. 0.3',
  spreadS: 'seconds ≥ 0 (0 = everyone at the start)',
  cluster: 'the name of a cluster in geo.viewers.clusters',
  viewers: 'a list of viewer ids',
  clusters: 'a list of `{ name, lat, lon, count }` entries',
  edges: 'a list of `{ id, lat, lon }` entries',
  nodes: 'a list of `{ id, role }` entries',
  links: 'a list of `{ a, b, latencyMs }` entries',
  origin: 'e.g. `origin: { id: origin, lat: 50.1, lon: 8.7 }`',
  stream: 'e.g. `stream: { bitrateBps: 3e6, chunkDurationMs: 250 }`',
};

function hintFor(path: readonly PropertyKey[]): string | undefined {
  const key = [...path].reverse().find((seg) => typeof seg === 'string');
  return key === undefined ? undefined : FIELD_HINTS[key as string];
}

function withFix(what: string, path: readonly PropertyKey[], fallbackFix?: string): string {
  const fix = hintFor(path) ?? fallbackFix;
  return fix === undefined ? what : `${what} — fix: ${fix}`;
}

function describeIssue(
  issue: z.core.$ZodIssue,
  raw: unknown,
  doc: Document,
  lineCounter: LineCounter,
): ScenarioIssue[] {
  const path = issue.path;
  const at = (p: readonly PropertyKey[], message: string): ScenarioIssue => ({
    path: formatPath(p),
    line: lineOf(doc, lineCounter, p),
    message,
  });
  const value = valueAt(raw, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(path, raw);
      return issue.keys.map((key) => {
        const guess = allowed === undefined ? undefined : closest(key, allowed);
        const fix = guess !== undefined ? `did you mean "${guess}"?` : 'remove it or correct the spelling';
        const list = allowed === undefined ? '' : ` (allowed here: ${allowed.join(', ')})`;
        return at([...path, key], `unknown key "${key}" — fix: ${fix}${list}`);
      });
    }
    case 'invalid_type': {
      if (path.length === 0) {
        const what =
          value === undefined || value === null ? 'the file is empty' : `the file holds ${show(value)}, not a scenario`;
        return [
          at(
            path,
            `${what} — fix: write a scenario as \`key: value\` lines (name, durationS, stream, geo or graph; see scenarios/small.yaml)`,
          ),
        ];
      }
      if (value === undefined) {
        const key = path[path.length - 1];
        const example = hintFor(path);
        return [at(path, `is required — fix: add \`${String(key)}:\`${example !== undefined ? ` (${example})` : ''}`)];
      }
      return [at(path, withFix(`must be ${expectedWord(issue.expected)} (got ${show(value)})`, path))];
    }
    case 'too_small':
    case 'too_big': {
      if (Array.isArray(value)) {
        const n = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
        const what =
          issue.code === 'too_small'
            ? `needs at least ${n} ${n === 1 ? 'entry' : 'entries'} (got ${value.length})`
            : `allows at most ${n} entries (got ${value.length})`;
        return [at(path, withFix(what, path))];
      }
      const range = numberRange(path, raw);
      let what: string;
      if (range !== undefined) {
        what = `must be between ${range.min} and ${range.max} (got ${show(value)})`;
      } else if (issue.code === 'too_small') {
        const min = Number(issue.minimum);
        what = issue.inclusive ? `must be ≥ ${min} (got ${show(value)})` : `must be > ${min} (got ${show(value)})`;
      } else {
        const max = Number(issue.maximum);
        what = issue.inclusive ? `must be ≤ ${max} (got ${show(value)})` : `must be < ${max} (got ${show(value)})`;
      }
      return [at(path, withFix(what, path))];
    }
    case 'invalid_value':
      return [at(path, withFix(`must be one of ${issue.values.map(String).join(', ')} (got ${show(value)})`, path))];
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (options !== undefined && options.length > 0) {
        return [at(path, withFix(`must be one of ${options.map(String).join(', ')} (got ${show(value)})`, path))];
      }
      return [at(path, withFix(`does not match any allowed form (got ${show(value)})`, path))];
    }
    case 'invalid_format':
      return [at(path, withFix(`has characters that are not allowed here (got ${show(value)})`, path))];
    case 'invalid_key':
      return [at(path, withFix(`"${String(path[path.length - 1])}" is not a valid key`, path))];
    case 'custom':
      return [at(path, issue.message)];
    default:
      return [at(path, withFix(issue.message, path))];
  }
}

function expectedWord(expected: string): string {
  switch (expected) {
    case 'int':
      return 'a whole number';
    case 'number':
      return 'a finite number';
    case 'string':
      return 'text';
    case 'object':
      return 'a mapping of `key: value` lines';
    case 'array':
      return 'a list';
    default:
      return `a ${expected}`;
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur = raw;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

function dedupe(issues: ScenarioIssue[]): ScenarioIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.line}\0${i.path}\0${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ---- schema introspection (for "allowed keys" and "between a and b") ---------------------------

type AnySchema = z.core.$ZodType;

function defOf(schema: AnySchema): Record<string, unknown> & { type: string } {
  return schema._zod.def as unknown as Record<string, unknown> & { type: string };
}

/** Peels optional/default/prefault/nullable/pipe wrappers; picks the union member for `value`. */
function unwrap(schema: AnySchema, value: unknown): AnySchema | undefined {
  let cur: AnySchema | undefined = schema;
  for (let guard = 0; cur !== undefined && guard < 16; guard++) {
    const def = defOf(cur);
    if (['optional', 'default', 'prefault', 'nullable', 'readonly', 'nonoptional'].includes(def.type)) {
      cur = def.innerType as AnySchema;
    } else if (def.type === 'pipe') {
      cur = def.in as AnySchema;
    } else if (def.type === 'union') {
      const options = def.options as AnySchema[];
      const kind = valueAt(value, ['kind']);
      cur = options.find((o) => {
        const shape = defOf(o).shape as Record<string, AnySchema> | undefined;
        const literal = shape?.kind === undefined ? undefined : (defOf(shape.kind).values as unknown[]);
        return literal?.includes(kind) ?? false;
      });
      return cur;
    } else {
      return cur;
    }
  }
  return cur;
}

function schemaAt(path: readonly PropertyKey[], raw: unknown): AnySchema | undefined {
  let cur: AnySchema | undefined = ScenarioSchema;
  let value = raw;
  for (const seg of path) {
    cur = cur === undefined ? undefined : unwrap(cur, value);
    if (cur === undefined) return undefined;
    const def = defOf(cur);
    if (def.type === 'object') cur = (def.shape as Record<string, AnySchema>)[String(seg)];
    else if (def.type === 'array') cur = def.element as AnySchema;
    else if (def.type === 'record') cur = def.valueType as AnySchema;
    else return undefined;
    value = valueAt(value, [seg]);
  }
  return cur === undefined ? undefined : unwrap(cur, value);
}

function allowedKeys(path: readonly PropertyKey[], raw: unknown): string[] | undefined {
  const schema = schemaAt(path, raw);
  if (schema === undefined || defOf(schema).type !== 'object') return undefined;
  return Object.keys(defOf(schema).shape as object);
}

/** Both bounds of a number field, when the schema has both (lat, lon, fraction…). */
function numberRange(path: readonly PropertyKey[], raw: unknown): { min: number; max: number } | undefined {
  const schema = schemaAt(path, raw) as { minValue?: number | null; maxValue?: number | null } | undefined;
  const min = schema?.minValue;
  const max = schema?.maxValue;
  // int() sets ±MAX_SAFE_INTEGER as implicit bounds: those are not user-facing ranges.
  if (typeof min !== 'number' || typeof max !== 'number') return undefined;
  if (Math.abs(min) >= Number.MAX_SAFE_INTEGER || Math.abs(max) >= Number.MAX_SAFE_INTEGER) return undefined;
  return { min, max };
}

/** The allowed key nearest to a typo (edit distance ≤ 2, a prefix, or equal ignoring case). */
function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const a = key.toLowerCase();
    const b = candidate.toLowerCase();
    // durationSeconds → durationS: a long common prefix is as telling as a small edit distance.
    const prefix = Math.min(a.length, b.length) >= 4 && (a.startsWith(b) || b.startsWith(a));
    const d = a === b ? 0 : prefix ? 1 : editDistance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

// ---- positions -----------------------------------------------------------------------------------

/** 1-based line of the deepest node of path that exists in the document (a key's own line). */
function lineOf(doc: Document, lineCounter: LineCounter, path: readonly PropertyKey[]): number {
  let node: unknown = doc.contents;
  let offset = startOf(node) ?? 0;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair === undefined) break;
      offset = startOf(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) break;
      offset = startOf(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return lineCounter.linePos(offset).line;
}

function startOf(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range?.[0];
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '').trim();
}
