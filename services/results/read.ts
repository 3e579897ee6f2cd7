// Reads and validates a results directory written by `livepath run --out DIR` (one mode, or
// cdn/ + p2p/ + comparison.json) into typed data. chunks.csv is streamed line by line into compact
// typed columns, so a 10^6-row file never exists as one string or as 10^6 objects.

import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import type { DeliveryPath, Mode } from '../core/types.js';
import { CHUNK_TABLE_INITIAL_ROWS, MAX_REPORTED_ISSUES } from '../lab/report/constants.js';
import { MalformedResultsFileError, MissingResultsFileError, NotAResultsDirError, ResultsError } from './errors.js';

export { MalformedResultsFileError, MissingResultsFileError, NotAResultsDirError, ResultsError };

// ---------------------------------------------------------------------------------------------
// Contract: JSON files

const count = z.number().int().nonnegative();
const nullableNumber = z.number().nullable();

const distributionSchema = z.object({
  p50: nullableNumber,
  p95: nullableNumber,
  p99: nullableNumber,
  max: nullableNumber,
  count,
});
const pathDistributionsSchema = z.object({
  cdn: distributionSchema,
  peer: distributionSchema,
  all: distributionSchema,
});

const summarySchema = z.object({
  scenario: z.string(),
  seed: z.number(),
  mode: z.enum(['cdn', 'p2p']),
  viewers: count,
  chunks: count,
  lostChunks: count,
  delayMs: pathDistributionsSchema,
  boundMs: distributionSchema,
  stretch: pathDistributionsSchema,
  // The contract names excessMs without a shape; both a single distribution and one per path
  // carry the same meaning, so both are accepted rather than failing a finished run.
  excessMs: z.union([pathDistributionsSchema, distributionSchema], {
    error: 'expected a distribution {p50, p95, p99, max, count} or {cdn, peer, all} of them',
  }),
  offload: z.number().min(0).max(1),
  emulationErrorMs: distributionSchema,
  probeErrorMs: distributionSchema.optional(),
  timerLatenessMs: distributionSchema.optional(),
  joinTimeMs: distributionSchema,
  stalls: count,
  reparents: count,
  proximity: z.looseObject({ medianRelativeError: z.number(), rankCorrelation: z.number() }).optional(),
  reference: z.looseObject({ delayMs: distributionSchema, meanDelayMs: z.number() }).optional(),
  plannerGap: z.object({ p50: z.number(), p95: z.number() }).optional(),
});

const coordinate = (limit: number) => z.number().min(-limit).max(limit).nullish();
const placeSchema = z.object({ id: z.string().min(1), lat: coordinate(90), lon: coordinate(180) });

const planSchema = z.object({
  scenario: z.string(),
  kind: z.enum(['geo', 'graph']),
  stream: z.looseObject({
    bitrateBps: z.number().positive(),
    chunkDurationUs: z.number().positive(),
    chunkBytes: z.number().positive(),
  }),
  broadcaster: placeSchema,
  origin: placeSchema,
  edges: z.array(placeSchema.extend({ parentId: z.string().min(1), region: z.string() })),
  viewers: z.array(
    placeSchema.extend({
      region: z.string(),
      edgeId: z.string(),
      boundMs: z.number().positive(),
      joinAtS: z.number().nonnegative(),
      leaveAtS: z.number().nonnegative().nullish(),
    }),
  ),
  links: z.array(z.object({ a: z.string(), b: z.string(), latencyMs: z.number().nonnegative() })).optional(),
});

const overlaySchema = z.object({
  parents: z.array(
    z.object({
      viewer: z.string().min(1),
      parent: z.string().min(1),
      path: z.enum(['cdn', 'peer']),
    }),
  ),
  changes: z.array(
    z.object({
      atUs: z.number(),
      viewer: z.string(),
      from: z.string().nullish(),
      to: z.string().nullish(),
      reason: z.string(),
    }),
  ),
});

const comparisonSchema = z.object({
  scenario: z.string(),
  seed: z.number(),
  modes: z.array(z.enum(['cdn', 'p2p'])).min(1),
  cdn: summarySchema.optional(),
  p2p: summarySchema.optional(),
});

export type Distribution = z.infer<typeof distributionSchema>;
export type PathDistributions = z.infer<typeof pathDistributionsSchema>;
export type ModeSummary = z.infer<typeof summarySchema>;
export type ResultsPlan = z.infer<typeof planSchema>;
export type Overlay = z.infer<typeof overlaySchema>;
export type Comparison = z.infer<typeof comparisonSchema>;

// ---------------------------------------------------------------------------------------------
// Contract: CSV files

export const CHUNK_COLUMNS = [
  'viewer',
  'seq',
  'producedAtUs',
  'receivedAtUs',
  'delayMs',
  'boundMs',
  'path',
  'hops',
  'parent',
] as const;
export const EVENT_COLUMNS = ['atUs', 'kind', 'viewer', 'detail'] as const;
// The viewers also log diagnostics: what they probed, their first assignment, a lost parent.
export const EVENT_KINDS = [
  'join',
  'leave',
  'kill',
  'reparent',
  'fallback',
  'stall',
  'probed',
  'assigned',
  'parent-lost',
  'round',
  'join-retry',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface EventRow {
  atUs: number;
  kind: EventKind;
  viewer: string;
  detail: string;
}

/** Index of a delivery path in ChunkTable.path. */
export const PATH_CODE: Record<DeliveryPath, number> = { cdn: 0, peer: 1 };
export const PATH_OF_CODE: readonly DeliveryPath[] = ['cdn', 'peer'];

/**
 * chunks.csv as columns: row i is (viewers[viewerIndex[i]], seq[i], …). Strings are interned
 * into `viewers` / `parents` so a row costs ~40 bytes instead of an object per row.
 */
export interface ChunkTable {
  rowCount: number;
  viewers: string[];
  parents: string[];
  viewerIndex: Int32Array;
  seq: Float64Array;
  producedAtUs: Float64Array;
  receivedAtUs: Float64Array;
  delayMs: Float32Array;
  boundMs: Float32Array;
  /** PATH_CODE: 0 = cdn, 1 = peer */
  path: Uint8Array;
  hops: Uint16Array;
  parentIndex: Int32Array;
}

export interface ModeResults {
  mode: Mode;
  /** directory holding this mode's files */
  dir: string;
  summary: ModeSummary;
  plan: ResultsPlan;
  chunks: ChunkTable;
  events: EventRow[];
  overlay: Overlay;
}

export interface Results {
  dir: string;
  /** 'single': one mode's files directly in dir; 'both': cdn/ and p2p/ plus comparison.json */
  layout: 'single' | 'both';
  scenario: string;
  seed: number;
  /** modes present, cdn first */
  modes: ModeResults[];
  comparison?: Comparison;
}

// ---------------------------------------------------------------------------------------------
// Directory

/** Reads either layout of a results directory. Throws a ResultsError naming the bad file. */
export async function readResults(dir: string): Promise<Results> {
  const dirStat = await statOrUndefined(dir);
  if (dirStat === undefined || !dirStat.isDirectory()) {
    throw new NotAResultsDirError(dir, 'no such directory (pass the --out DIR of `livepath run`)');
  }
  if ((await isFile(join(dir, 'summary.json'))) || (await isFile(join(dir, 'chunks.csv')))) {
    const single = await readModeDir(dir);
    return {
      dir,
      layout: 'single',
      scenario: single.summary.scenario,
      seed: single.summary.seed,
      modes: [single],
    };
  }
  const comparisonFile = join(dir, 'comparison.json');
  const hasModeDir = (await isDirectory(join(dir, 'cdn'))) || (await isDirectory(join(dir, 'p2p')));
  if (!hasModeDir && !(await isFile(comparisonFile))) {
    throw new NotAResultsDirError(
      dir,
      'not a livepath results directory: expected summary.json + chunks.csv (one mode) or ' +
        'cdn/, p2p/ and comparison.json (--mode both)',
    );
  }
  const comparison = await readJsonFile(comparisonFile, comparisonSchema);
  const modes: ModeResults[] = [];
  for (const mode of (['cdn', 'p2p'] as const).filter((m) => comparison.modes.includes(m))) {
    if (comparison[mode] === undefined) {
      throw new MalformedResultsFileError(comparisonFile, `modes lists "${mode}" but there is no "${mode}" summary`);
    }
    modes.push(await readModeDir(join(dir, mode), mode));
  }
  return { dir, layout: 'both', scenario: comparison.scenario, seed: comparison.seed, modes, comparison };
}

/** Reads one mode's files (summary.json, plan.json, chunks.csv, events.csv, overlay.json). */
export async function readModeDir(dir: string, expectedMode?: Mode): Promise<ModeResults> {
  const summaryFile = join(dir, 'summary.json');
  const [summary, plan, overlay] = await Promise.all([
    readJsonFile(summaryFile, summarySchema),
    readPlan(join(dir, 'plan.json')),
    readJsonFile(join(dir, 'overlay.json'), overlaySchema),
  ]);
  if (expectedMode !== undefined && summary.mode !== expectedMode) {
    throw new MalformedResultsFileError(
      summaryFile,
      `mode is "${summary.mode}" but the file is in the ${expectedMode}/ directory`,
    );
  }
  const viewerIds = new Set(plan.viewers.map((v) => v.id));
  // One CSV at a time: they are the large files and the machine has few cores.
  const chunks = await readChunksCsv(join(dir, 'chunks.csv'), { viewerIds });
  const events = await readEventsCsv(join(dir, 'events.csv'));
  return { mode: summary.mode, dir, summary, plan, chunks, events, overlay };
}

export async function readPlan(file: string): Promise<ResultsPlan> {
  const plan = await readJsonFile(file, planSchema);
  const seen = new Set<string>();
  for (const [i, viewer] of plan.viewers.entries()) {
    if (seen.has(viewer.id)) {
      throw new MalformedResultsFileError(
        file,
        `viewers[${i}]: viewer id "${viewer.id}" appears twice`,
        await lineOfJsonPath(file, ['viewers', i]),
      );
    }
    seen.add(viewer.id);
  }
  return plan;
}

// ---------------------------------------------------------------------------------------------
// JSON

/** Reads a JSON file and validates it; errors carry the line of the offending field. */
export async function readJsonFile<T>(file: string, schema: z.ZodType<T>): Promise<T> {
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
  const first = issues[0]!;
  const described = issues
    .slice(0, MAX_REPORTED_ISSUES)
    .map((issue) => `${formatJsonPath(issue.path)}: ${issue.message.replace(/^Invalid input: /, '')}`);
  const more = issues.length > MAX_REPORTED_ISSUES ? ` (and ${issues.length - MAX_REPORTED_ISSUES} more)` : '';
  throw new MalformedResultsFileError(file, described.join('; ') + more, lineOfPathInText(text, first.path));
}

async function readTextFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw fileOpenError(file, err);
  }
}

function fileOpenError(file: string, err: unknown): ResultsError {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return missingFileError(file);
  return new ResultsError(file, `cannot read: ${(err as Error).message}`);
}

function missingFileError(file: string): MissingResultsFileError {
  return new MissingResultsFileError(file, 'file is missing (did the run finish writing its results?)');
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

async function lineOfJsonPath(file: string, path: readonly PropertyKey[]): Promise<number | undefined> {
  return lineOfPathInText(await readTextFile(file), path);
}

/** JSON.parse on Node 20 gives no position; the YAML parser (a JSON superset) usually does. */
function jsonSyntaxErrorLine(text: string): number | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const pos = doc.errors[0]?.linePos?.[0];
  return pos?.line;
}

// ---------------------------------------------------------------------------------------------
// CSV

/**
 * Splits one CSV line (RFC 4180 quoting, no embedded newlines). Returns undefined when a quote
 * is not closed, so the caller can name the line.
 */
export function splitCsvLine(line: string): string[] | undefined {
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < line.length) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ',') {
      fields.push(field);
      field = '';
    } else {
      field += ch;
    }
    i++;
  }
  if (quoted) return undefined;
  fields.push(field);
  return fields;
}

/**
 * Streams a CSV file with a header line; calls onRow with the fields in `columns` order (extra
 * columns are ignored, order in the file is free) and the 1-based line number.
 */
async function streamCsv(
  file: string,
  columns: readonly string[],
  onRow: (fields: string[], line: number) => void,
): Promise<void> {
  const fileStat = await statOrUndefined(file);
  if (fileStat === undefined) throw missingFileError(file);
  if (!fileStat.isFile()) throw new ResultsError(file, 'is not a file');
  const input = createReadStream(file, { encoding: 'utf8' });
  let streamError: unknown;
  input.on('error', (err) => {
    streamError = err;
  });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  let columnIndex: number[] | undefined;
  let identity = false;
  let headerWidth = 0;
  try {
    for await (const rawLine of lines) {
      lineNo++;
      const line = lineNo === 1 ? rawLine.replace(/^\uFEFF/, '') : rawLine;
      if (columnIndex === undefined) {
        const header = (splitCsvLine(line) ?? []).map((h) => h.trim());
        const missing = columns.filter((c) => !header.includes(c));
        if (missing.length > 0) {
          throw new MalformedResultsFileError(
            file,
            `header lacks column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ` +
              `(expected ${columns.join(',')}; found ${line.slice(0, 200) || 'an empty line'})`,
            lineNo,
          );
        }
        columnIndex = columns.map((c) => header.indexOf(c));
        identity = columnIndex.every((idx, i) => idx === i) && header.length === columns.length;
        headerWidth = header.length;
        continue;
      }
      if (line.trim() === '') continue;
      const fields = splitCsvLine(line);
      if (fields === undefined) {
        throw new MalformedResultsFileError(file, 'unclosed quote (fields may not span lines)', lineNo);
      }
      if (fields.length !== headerWidth) {
        throw new MalformedResultsFileError(
          file,
          `expected ${headerWidth} fields like the header, found ${fields.length}`,
          lineNo,
        );
      }
      const ordered = identity ? fields : columnIndex.map((idx) => fields[idx]!);
      onRow(ordered, lineNo);
    }
  } finally {
    lines.close();
    input.destroy();
  }
  if (streamError !== undefined) throw fileOpenError(file, streamError);
  if (columnIndex === undefined) {
    throw new MalformedResultsFileError(file, `file is empty; expected the header ${columns.join(',')}`, 1);
  }
}

function parseNumber(text: string): number {
  // Number('') is 0 and Number(' ') too: an empty field must not read as a zero delay.
  return text.trim() === '' ? Number.NaN : Number(text);
}

class RowProblem extends Error {}

function finiteField(name: string, text: string): number {
  const value = parseNumber(text);
  if (!Number.isFinite(value)) throw new RowProblem(`${name} is not a number (${JSON.stringify(text)})`);
  return value;
}

function integerField(name: string, text: string, min: number): number {
  const value = finiteField(name, text);
  if (!Number.isInteger(value) || value < min) {
    throw new RowProblem(`${name} must be an integer ≥ ${min} (${JSON.stringify(text)})`);
  }
  return value;
}

/** Growable typed columns for chunks.csv. */
class ChunkTableBuilder {
  private capacity = CHUNK_TABLE_INITIAL_ROWS;
  private rows = 0;
  private readonly viewerIds = new Map<string, number>();
  private readonly parentIds = new Map<string, number>();
  private viewerIndex = new Int32Array(this.capacity);
  private seq = new Float64Array(this.capacity);
  private producedAtUs = new Float64Array(this.capacity);
  private receivedAtUs = new Float64Array(this.capacity);
  private delayMs = new Float32Array(this.capacity);
  private boundMs = new Float32Array(this.capacity);
  private path = new Uint8Array(this.capacity);
  private hops = new Uint16Array(this.capacity);
  private parentIndex = new Int32Array(this.capacity);

  add(row: {
    viewer: string;
    seq: number;
    producedAtUs: number;
    receivedAtUs: number;
    delayMs: number;
    boundMs: number;
    path: number;
    hops: number;
    parent: string;
  }): void {
    if (this.rows === this.capacity) this.grow();
    const i = this.rows++;
    this.viewerIndex[i] = intern(this.viewerIds, row.viewer);
    this.seq[i] = row.seq;
    this.producedAtUs[i] = row.producedAtUs;
    this.receivedAtUs[i] = row.receivedAtUs;
    this.delayMs[i] = row.delayMs;
    this.boundMs[i] = row.boundMs;
    this.path[i] = row.path;
    this.hops[i] = row.hops;
    this.parentIndex[i] = intern(this.parentIds, row.parent);
  }

  private grow(): void {
    this.capacity *= 2;
    const grown = <A extends Int32Array | Float64Array | Float32Array | Uint8Array | Uint16Array>(
      old: A,
      make: (n: number) => A,
    ): A => {
      const next = make(this.capacity);
      next.set(old as never);
      return next;
    };
    this.viewerIndex = grown(this.viewerIndex, (n) => new Int32Array(n));
    this.seq = grown(this.seq, (n) => new Float64Array(n));
    this.producedAtUs = grown(this.producedAtUs, (n) => new Float64Array(n));
    this.receivedAtUs = grown(this.receivedAtUs, (n) => new Float64Array(n));
    this.delayMs = grown(this.delayMs, (n) => new Float32Array(n));
    this.boundMs = grown(this.boundMs, (n) => new Float32Array(n));
    this.path = grown(this.path, (n) => new Uint8Array(n));
    this.hops = grown(this.hops, (n) => new Uint16Array(n));
    this.parentIndex = grown(this.parentIndex, (n) => new Int32Array(n));
  }

  build(): ChunkTable {
    const n = this.rows;
    return {
      rowCount: n,
      viewers: [...this.viewerIds.keys()],
      parents: [...this.parentIds.keys()],
      viewerIndex: this.viewerIndex.slice(0, n),
      seq: this.seq.slice(0, n),
      producedAtUs: this.producedAtUs.slice(0, n),
      receivedAtUs: this.receivedAtUs.slice(0, n),
      delayMs: this.delayMs.slice(0, n),
      boundMs: this.boundMs.slice(0, n),
      path: this.path.slice(0, n),
      hops: this.hops.slice(0, n),
      parentIndex: this.parentIndex.slice(0, n),
    };
  }
}

function intern(ids: Map<string, number>, id: string): number {
  let index = ids.get(id);
  if (index === undefined) {
    index = ids.size;
    ids.set(id, index);
  }
  return index;
}

const HOPS_MAX = 0xffff;

/**
 * Streams chunks.csv into a ChunkTable. With `viewerIds`, a row naming a viewer that plan.json
 * does not know is an error (it means the files come from different runs).
 */
export async function readChunksCsv(
  file: string,
  options: { viewerIds?: ReadonlySet<string> } = {},
): Promise<ChunkTable> {
  const builder = new ChunkTableBuilder();
  await streamCsv(file, CHUNK_COLUMNS, (f, line) => {
    try {
      const viewer = f[0]!;
      if (viewer === '') throw new RowProblem('viewer is empty');
      if (options.viewerIds !== undefined && !options.viewerIds.has(viewer)) {
        throw new RowProblem(`viewer "${viewer}" is not in plan.json`);
      }
      const path = f[6]!;
      if (path !== 'cdn' && path !== 'peer') {
        throw new RowProblem(`path must be "cdn" or "peer" (${JSON.stringify(path)})`);
      }
      const boundMs = finiteField('boundMs', f[5]!);
      if (boundMs <= 0) throw new RowProblem(`boundMs must be > 0 (${JSON.stringify(f[5])})`);
      const hops = integerField('hops', f[7]!, 0);
      if (hops > HOPS_MAX) throw new RowProblem(`hops must be ≤ ${HOPS_MAX} (${JSON.stringify(f[7])})`);
      builder.add({
        viewer,
        seq: integerField('seq', f[1]!, 0),
        producedAtUs: finiteField('producedAtUs', f[2]!),
        receivedAtUs: finiteField('receivedAtUs', f[3]!),
        delayMs: finiteField('delayMs', f[4]!),
        boundMs,
        path: PATH_CODE[path],
        hops,
        parent: f[8]!,
      });
    } catch (err) {
      if (err instanceof RowProblem) throw new MalformedResultsFileError(file, err.message, line);
      throw err;
    }
  });
  return builder.build();
}

/** Streams events.csv into rows (events are few: one per join/leave/kill/re-parent/stall). */
export async function readEventsCsv(file: string): Promise<EventRow[]> {
  const events: EventRow[] = [];
  await streamCsv(file, EVENT_COLUMNS, (f, line) => {
    try {
      const kind = f[1]! as EventKind;
      if (!EVENT_KINDS.includes(kind)) {
        throw new RowProblem(`kind must be one of ${EVENT_KINDS.join('|')} (${JSON.stringify(f[1])})`);
      }
      events.push({ atUs: finiteField('atUs', f[0]!), kind, viewer: f[2]!, detail: f[3]! });
    } catch (err) {
      if (err instanceof RowProblem) throw new MalformedResultsFileError(file, err.message, line);
      throw err;
    }
  });
  return events;
}

// ---------------------------------------------------------------------------------------------

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

async function isFile(path: string): Promise<boolean> {
  return (await statOrUndefined(path))?.isFile() ?? false;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await statOrUndefined(path))?.isDirectory() ?? false;
}
