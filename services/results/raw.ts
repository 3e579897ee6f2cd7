// The raw files each service process leaves in its --out directory (a run's raw/), which the lab
// merges into the results files: their names, and the shapes of those that are not chunk rows
// or events (chunks.ts, events.ts). A Kubernetes pod's files are renamed <pod>.<suffix> on copy.
import { join } from 'node:path';
import { z } from 'zod';
import type { Recorder } from '../core/stats.js';
import { CsvAppender, finiteField, integerField, type CsvField } from './csv.js';
import { CHUNK_COLUMNS } from './chunks.js';
import { EVENT_COLUMNS } from './events.js';
import { writeJsonFile } from './json.js';
import { ingestEndSchema, integritySchema, type IngestEnd } from './summary.js';

export type { Integrity } from './summary.js';

/** What a process' raw file holds, by the suffix after its process name. */
export const RAW_SUFFIX = {
  chunks: '.chunks.csv',
  events: '.events.csv',
  linkemu: '.linkemu.json',
  proximity: '.proximity.csv',
  decisions: '.decisions.csv',
  fragments: '.fragments.json',
} as const;

/** Real video: the origin's ingest samples and how its ingest ended. */
export const INGEST_CSV = 'origin.ingest.csv';
export const INGEST_JSON = 'origin.ingest.json';

export type RawKind = keyof typeof RAW_SUFFIX;

export function rawFile(dir: string, proc: string, kind: RawKind): string {
  return join(dir, `${proc}${RAW_SUFFIX[kind]}`);
}

/**
 * The CSV a process appends its rows of `kind` to — after any rows an earlier run of the same
 * process left (a container restarted in its pod; the lab starts every run in an empty directory).
 */
export function rawAppender(dir: string, proc: string, kind: Exclude<RawKind, 'linkemu' | 'fragments'>): CsvAppender {
  return new CsvAppender(rawFile(dir, proc, kind), RAW_COLUMNS[kind], { append: true });
}

// ---- the tracker's proximity samples and decisions -----------------------------------------

export const PROXIMITY_COLUMNS = ['peer', 'node', 'rttMs'] as const;
export const DECISION_COLUMNS = ['atUs', 'peer', 'parent', 'reason', 'expectedDelayMs', 'overBudget'] as const;

const RAW_COLUMNS: Record<Exclude<RawKind, 'linkemu' | 'fragments'>, readonly string[]> = {
  chunks: CHUNK_COLUMNS,
  events: EVENT_COLUMNS,
  proximity: PROXIMITY_COLUMNS,
  decisions: DECISION_COLUMNS,
};

/** An RTT a peer measured to a candidate parent. */
export interface ProximitySample {
  peer: string;
  node: string;
  rttMs: number;
}

export function proximityRow(s: ProximitySample): CsvField[] {
  return [s.peer, s.node, s.rttMs.toFixed(3)];
}

export function parseProximityRow(f: readonly string[]): ProximitySample {
  return { peer: f[0]!, node: f[1]!, rttMs: finiteField('rttMs', f[2]!) };
}

/** A parent the tracker's planner chose, and why. */
export interface DecisionRow {
  atUs: number;
  peer: string;
  parent: string;
  reason: string;
  expectedDelayMs: number;
  overBudget: boolean;
}

export function decisionRow(d: DecisionRow): CsvField[] {
  return [d.atUs, d.peer, d.parent, d.reason, d.expectedDelayMs.toFixed(3), d.overBudget ? 1 : 0];
}

export function parseDecisionRow(f: readonly string[]): DecisionRow {
  return {
    atUs: finiteField('atUs', f[0]!),
    peer: f[1]!,
    parent: f[2]!,
    reason: f[3]!,
    expectedDelayMs: finiteField('expectedDelayMs', f[4]!),
    overBudget: integerField('overBudget', f[5]!, 0) === 1,
  };
}

// ---- the link emulator's own figures --------------------------------------------------------

const encodedHistogramSchema = z.object({
  resolution: z.number().positive(),
  max: z.number().nullable(),
  histogram: z.string(),
}) satisfies z.ZodType<ReturnType<Recorder['encode']>>;

/** <proc>.linkemu.json: the emulator's error and timer-lateness histograms and the process' CPU. */
export const linkemuFileSchema = z.object({
  proc: z.string(),
  mechanism: z.string(),
  errorMs: encodedHistogramSchema,
  probeErrorMs: encodedHistogramSchema.optional(),
  latenessMs: encodedHistogramSchema.optional(),
  /**
   * since frame pacing: per live copy a peer relayed, by the child's position in its parent's
   * order (0 = first), how long it waited on the uplink beyond its own serialization
   */
  positionWaitMs: z.record(z.string(), encodedHistogramSchema).optional(),
  cpuSeconds: z.number().nonnegative().optional(),
  /** since signed fragments: what checking the origin's signatures did and cost in this process */
  integrity: integritySchema.optional(),
});

export type LinkemuFile = z.infer<typeof linkemuFileSchema>;

export function writeLinkemuFile(dir: string, value: LinkemuFile): void {
  writeJsonFile(rawFile(dir, value.proc, 'linkemu'), linkemuFileSchema, value, { indent: 0 });
}

// ---- the viewers' per-fragment delays ------------------------------------------------------

/**
 * <proc>.fragments.json: per fragment (frame) a viewer of the process received, when its bytes
 * arrived − when the broadcaster made them, by path; and how many arrived sooner than their own
 * bytes could cross the bottleneck (a bug if ever > 0). Histograms: a row per fragment is ~10^5 a
 * minute.
 */
export const fragmentsFileSchema = z.object({
  proc: z.string(),
  delayMs: z.object({ cdn: encodedHistogramSchema, peer: encodedHistogramSchema, all: encodedHistogramSchema }),
  belowBound: z.number().int().nonnegative(),
});

export type FragmentsFile = z.infer<typeof fragmentsFileSchema>;

export function writeFragmentsFile(dir: string, value: FragmentsFile): void {
  writeJsonFile(rawFile(dir, value.proc, 'fragments'), fragmentsFileSchema, value, { indent: 0 });
}

// ---- real video ----------------------------------------------------------------------------

export const INGEST_COLUMNS = [
  'seq',
  'firstByteAtUs',
  'producedAtUs',
  'mediaOffsetUs',
  'durationUs',
  'bytes',
  'keyframe',
  'anchorUs',
  'ingestDelayMs',
] as const;

/** One chunk's ingest timing: when its first byte reached the origin versus its capture. */
export interface IngestRow {
  seq: number;
  /** the chunk's first byte reached the origin (µs) */
  firstByteAtUs: number;
  /** the chunk was complete at the origin */
  producedAtUs: number;
  /** media time of the chunk's first frame since the stream's first frame (µs) */
  mediaOffsetUs: number;
  durationUs: number;
  bytes: number;
  keyframe: boolean;
  /** when the broadcaster captured the stream's first frame (µs), by the method in origin.ingest.json */
  anchorUs: number;
  /** firstByteAtUs − (anchorUs + mediaOffsetUs) */
  ingestDelayMs: number;
}

export function ingestRow(r: IngestRow): CsvField[] {
  return [
    r.seq,
    r.firstByteAtUs,
    r.producedAtUs,
    r.mediaOffsetUs,
    r.durationUs,
    r.bytes,
    r.keyframe ? 1 : 0,
    r.anchorUs,
    r.ingestDelayMs.toFixed(3),
  ];
}

export function ingestAppender(dir: string): CsvAppender {
  return new CsvAppender(join(dir, INGEST_CSV), INGEST_COLUMNS);
}

export function writeIngestEnd(dir: string, end: IngestEnd): void {
  writeJsonFile(join(dir, INGEST_JSON), ingestEndSchema, end);
}
