// summary.json (one mode's figures) and comparison.json (both modes side by side): their schemas,
// which the lab writes through and the report reads through. A field is added here, once.
import { z } from 'zod';
import type { Distribution } from '../core/stats.js';

export const count = z.number().int().nonnegative();
const nullableNumber = z.number().nullable();

export const modeSchema = z.enum(['cdn', 'p2p']);

export const distributionSchema = z.object({
  p50: nullableNumber,
  p95: nullableNumber,
  p99: nullableNumber,
  max: nullableNumber,
  count,
}) satisfies z.ZodType<Distribution>;

const pathDistributionsSchema = z.object({
  cdn: distributionSchema,
  peer: distributionSchema,
  all: distributionSchema,
});

/** p2p: the reference tree this run's overlay is graded against (services/lab/results/reference.ts). */
export const referenceSummarySchema = z.object({
  /** the reference tree's modelled delays, each viewer weighted by the chunks it received in the run */
  delayMs: distributionSchema,
  meanDelayMs: z.number(),
  /** its greedy start (join order), before local search */
  greedyMeanDelayMs: z.number(),
  /** the reference's share of chunk bytes from peers (viewers below a root count as CDN), same weights */
  offload: z.number().min(0).max(1).optional(),
  /** the tracker's tree at the end of the run under the same model and weights */
  finalTreeDelayMs: distributionSchema.optional(),
  moves: count,
  computeMs: z.number().nonnegative(),
});

/** How the real-video ingest went (origin.ingest.json, copied into the summary). */
export const ingestEndSchema = z.object({
  kind: z.enum(['rtmp', 'file']),
  input: z.string(),
  anchor: z.enum(['ffmpeg-start', 'rtmp-publish', 'first-chunk', 'none']),
  chunks: count,
  mediaSeconds: z.number().nonnegative(),
  /** why the broadcast ended before its time, for the user */
  endedEarly: z.string().optional(),
});

// Fields are in the order they are written. Those marked "since" are absent from results written
// before they existed; a run writes them always (see Summary).
/** A process' (or a run's) fragment checks: how many, how many needed Ed25519, their CPU, refusals. */
export const integritySchema = z.object({
  checked: z.number().int().nonnegative(),
  verifications: z.number().int().nonnegative(),
  verifyCpuSeconds: z.number().nonnegative(),
  rejected: z.record(z.string(), z.number().int().nonnegative()),
  /** since adversaries: copies the scenario's adversaries rewrote or withheld, by kind */
  adversaries: z.object({ tampered: count, replayed: count, withheld: count, trickled: count }).optional(),
});

export type Integrity = z.infer<typeof integritySchema>;

export const summarySchema = z.object({
  scenario: z.string(),
  seed: z.number(),
  mode: modeSchema,
  /** since the backends: local, mininet or kubernetes */
  backend: z.string().optional(),
  /** since the backends: linkemu, delay-only or kernel */
  linkShaping: z.string().optional(),
  viewers: count,
  chunks: count,
  lostChunks: count,
  /** since frame pacing: how the broadcaster released each chunk's bytes, and the nominal release unit */
  production: z
    .object({ mode: z.enum(['progressive', 'segment']), releasesPerChunk: count, releaseUnitBytes: count })
    .optional(),
  delayMs: pathDistributionsSchema,
  /** the bound of each recorded chunk (before frame pacing: of each viewer) */
  boundMs: distributionSchema,
  /** since frame pacing: per fragment (frame), when its bytes reached a viewer − when they were made */
  fragmentDelayMs: pathDistributionsSchema.optional(),
  /** since frame pacing: records that beat their bound (must be 0: a bug in the emulation or the bound) */
  belowBound: z.object({ chunks: count, fragments: count }).optional(),
  /**
   * since frame pacing: peer uplinks, how long a relayed copy waited beyond its own serialization, by
   * the child's position in its parent's order (0 = served first): the position cost of fan-out
   */
  positionWaitMs: z.array(distributionSchema.extend({ position: count })).optional(),
  stretch: pathDistributionsSchema,
  // A run writes one distribution; one per path carries the same meaning, so both are read
  // rather than failing a finished run.
  excessMs: z.union([pathDistributionsSchema, distributionSchema], {
    error: 'expected a distribution {p50, p95, p99, max, count} or {cdn, peer, all} of them',
  }),
  offload: z.number().min(0).max(1),
  /** per chunk-fragment hop: how much later than the model the bytes reached the receiver's process */
  emulationErrorMs: distributionSchema,
  /** the same for proximity probes (inflates measured RTTs, not chunk delays) */
  probeErrorMs: distributionSchema.optional(),
  /** per hop: how late the receiver's timer ran its callback (delays actions, not recorded arrivals) */
  timerLatenessMs: distributionSchema.optional(),
  joinTimeMs: distributionSchema,
  /** chunks a viewer completed after its playout deadline, or never */
  stalls: count,
  reparents: count,
  /** since the peer path's fallback: chunks fetched from the CDN edge because the peer path was late */
  lateChunks: count.optional(),
  /**
   * p2p: the reference tree (true latencies, the tracker's limits) this run's overlay is graded
   * against, and planner gap = measured delay ÷ the reference's at p50 and p95 (1.0 = as good as
   * full knowledge; proximity says how much of the rest is estimation error)
   */
  reference: referenceSummarySchema.optional(),
  plannerGap: z.object({ p50: z.number(), p95: z.number() }).optional(),
  /** how well measured RTTs (what the tracker plans with) match the scenario's true RTTs */
  proximity: z.object({ samples: count, medianRelativeError: z.number(), rankCorrelation: z.number() }).optional(),
  /** since the CPU accounting: CPU seconds each service process used (user + system) */
  cpuSeconds: z.record(z.string(), z.number()).optional(),
  /** since signed fragments: every process' fragment checks, summed */
  integrity: integritySchema.optional(),
  /** real video: broadcaster → origin delay of each chunk's first frame (origin.ingest.csv) */
  ingestDelayMs: distributionSchema.optional(),
  /** real video: how the ingest went (source kind, anchor of the delay, early end) */
  ingest: ingestEndSchema.optional(),
});

export const comparisonSchema = z.object({
  scenario: z.string(),
  seed: z.number(),
  modes: z.array(modeSchema).min(1),
  cdn: summarySchema.optional(),
  p2p: summarySchema.optional(),
});

export type PathDistributions = z.infer<typeof pathDistributionsSchema>;
export type IngestEnd = z.infer<typeof ingestEndSchema>;
export type ReferenceSummary = z.infer<typeof referenceSummarySchema>;
/** A summary as read: older files may lack the "since" fields. */
export type ModeSummary = z.infer<typeof summarySchema>;
/** A summary as a run writes it: every field it always fills, excess as one distribution. */
type AlwaysWritten =
  | 'backend'
  | 'linkShaping'
  | 'lateChunks'
  | 'cpuSeconds'
  | 'production'
  | 'fragmentDelayMs'
  | 'belowBound'
  | 'positionWaitMs';
export type Summary = Omit<ModeSummary, AlwaysWritten | 'excessMs'> &
  Required<Pick<ModeSummary, AlwaysWritten>> & { excessMs: Distribution };
export type Comparison = z.infer<typeof comparisonSchema>;
