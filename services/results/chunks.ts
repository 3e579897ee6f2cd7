// chunks.csv: one row per (viewer, chunk) — the measurement everything else is computed from.
// This module is the row's one definition: its columns, how a viewer writes a row, how the lab
// and the report read one back, the typed-column table the report keeps them in, and the rules
// read off a row (how many chunks a broadcast has, when a chunk is a stall).
import type { DeliveryPath, RunPlan } from '../core/types.js';
import { CHUNK_TABLE_INITIAL_ROWS } from './constants.js';
import { isStall } from '../core/viewer/policy.js';
import { finiteField, integerField, RowProblem, streamCsv, type CsvField, type StreamCsvOptions } from './csv.js';

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

/** One row of chunks.csv. */
export interface ChunkRow {
  viewer: string;
  seq: number;
  producedAtUs: number;
  receivedAtUs: number;
  delayMs: number;
  boundMs: number;
  path: DeliveryPath;
  hops: number;
  parent: string;
}

/** What a viewer records for a chunk: the row, and the chunk's size for delivered-bytes metrics. */
export interface ChunkRecord extends ChunkRow {
  /** size of the chunk (not written to the CSV) */
  bytes: number;
}

/** The fields of a row, in CHUNK_COLUMNS order. */
export function chunkRow(r: ChunkRow): CsvField[] {
  return [
    r.viewer,
    r.seq,
    r.producedAtUs,
    r.receivedAtUs,
    r.delayMs.toFixed(3),
    r.boundMs.toFixed(3),
    r.path,
    r.hops,
    r.parent,
  ];
}

const HOPS_MAX = 0xffff;

/**
 * A row from its fields in CHUNK_COLUMNS order; throws a RowProblem naming the bad field. With
 * `viewerIds`, a viewer that plan.json does not know is an error (the files are from two runs).
 */
export function parseChunkRow(f: readonly string[], viewerIds?: ReadonlySet<string>): ChunkRow {
  const viewer = f[0]!;
  if (viewer === '') throw new RowProblem('viewer is empty');
  if (viewerIds !== undefined && !viewerIds.has(viewer)) throw new RowProblem(`viewer "${viewer}" is not in plan.json`);
  const path = f[6]!;
  if (path !== 'cdn' && path !== 'peer') throw new RowProblem(`path must be "cdn" or "peer" (${JSON.stringify(path)})`);
  const boundMs = finiteField('boundMs', f[5]!);
  if (boundMs <= 0) throw new RowProblem(`boundMs must be > 0 (${JSON.stringify(f[5])})`);
  const hops = integerField('hops', f[7]!, 0);
  if (hops > HOPS_MAX) throw new RowProblem(`hops must be ≤ ${HOPS_MAX} (${JSON.stringify(f[7])})`);
  return {
    viewer,
    seq: integerField('seq', f[1]!, 0),
    producedAtUs: finiteField('producedAtUs', f[2]!),
    receivedAtUs: finiteField('receivedAtUs', f[3]!),
    delayMs: finiteField('delayMs', f[4]!),
    boundMs,
    path,
    hops,
    parent: f[8]!,
  };
}

/** Streams a chunks CSV (a viewer process' raw file or the merged chunks.csv) row by row. */
export function streamChunksCsv(
  file: string,
  onRow: (row: ChunkRow, line: number) => void,
  options: StreamCsvOptions & { viewerIds?: ReadonlySet<string> } = {},
): Promise<void> {
  return streamCsv(file, CHUNK_COLUMNS, (f, line) => onRow(parseChunkRow(f, options.viewerIds), line), options);
}

// ---- rules ---------------------------------------------------------------------------------

/** Chunks in the scenario's broadcast: its duration in whole chunks. */
export function chunkCount(plan: Pick<RunPlan, 'durationS' | 'stream'>): number {
  return Math.floor((plan.durationS * 1e6) / plan.stream.chunkDurationUs);
}

/** A chunk completed after its playout deadline stalls the viewer (the rule is the viewer policy's). */
export { isStall };

// ---- the report's table --------------------------------------------------------------------

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

  add(row: ChunkRow): void {
    if (this.rows === this.capacity) this.grow();
    const i = this.rows++;
    this.viewerIndex[i] = intern(this.viewerIds, row.viewer);
    this.seq[i] = row.seq;
    this.producedAtUs[i] = row.producedAtUs;
    this.receivedAtUs[i] = row.receivedAtUs;
    this.delayMs[i] = row.delayMs;
    this.boundMs[i] = row.boundMs;
    this.path[i] = PATH_CODE[row.path];
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

/**
 * Streams chunks.csv into a ChunkTable. With `viewerIds`, a row naming a viewer that plan.json
 * does not know is an error (it means the files come from different runs).
 */
export async function readChunksCsv(
  file: string,
  options: { viewerIds?: ReadonlySet<string> } = {},
): Promise<ChunkTable> {
  const builder = new ChunkTableBuilder();
  await streamChunksCsv(file, (row) => builder.add(row), options);
  return builder.build();
}
