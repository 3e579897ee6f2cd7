// plan.json: the part of the run plan the report and later tools need (places, bounds, edges,
// churn), written from the RunPlan and read back through the same schema.
import { z } from 'zod';
import type { RunPlan } from '../core/types.js';
import { writeJsonFile } from './json.js';

const coordinate = (limit: number) => z.number().min(-limit).max(limit).nullish();
// Fields are in the order they are written. Those marked "since" are absent from results written
// before they existed.
const placeSchema = z.object({
  id: z.string().min(1),
  lat: coordinate(90),
  lon: coordinate(180),
  /** since plan.json named every place's region (edges and viewers always had one) */
  region: z.string().optional(),
});

export const planSchema = z.object({
  scenario: z.string(),
  /** since */
  seed: z.number().optional(),
  kind: z.enum(['geo', 'graph']),
  /** since */
  durationS: z.number().positive().optional(),
  stream: z.looseObject({
    streamId: z.string().optional(),
    bitrateBps: z.number().positive(),
    chunkDurationUs: z.number().positive(),
    chunkBytes: z.number().positive(),
    keyframeIntervalChunks: z.number().int().positive().optional(),
    fragmentBytes: z.number().int().positive().optional(),
    /** since frame pacing: progressive | segment, and what one release unit is */
    production: z.enum(['progressive', 'segment']).optional(),
    frameRate: z.number().positive().optional(),
    pacing: z.enum(['frame', 'fragment']).optional(),
    releasesPerChunk: z.number().int().positive().optional(),
    releaseUnitBytes: z.number().int().positive().optional(),
    source: z
      .object({
        kind: z.enum(['synthetic', 'rtmp', 'file']),
        input: z.string().optional(),
        streamKey: z.string().optional(),
      })
      .optional(),
  }),
  broadcaster: placeSchema,
  origin: placeSchema,
  edges: z.array(placeSchema.extend({ region: z.string(), parentId: z.string().min(1) })),
  viewers: z.array(
    placeSchema.extend({
      region: z.string(),
      edgeId: z.string(),
      boundMs: z.number().positive(),
      /** since: the bound's two parts */
      boundPropagationMs: z.number().nonnegative().optional(),
      boundSerializationMs: z.number().nonnegative().optional(),
      /** since frame pacing: the bottleneck of the broadcaster → viewer path (the bound of each chunk uses it) */
      bottleneckBps: z.number().positive().optional(),
      joinAtS: z.number().nonnegative(),
      leaveAtS: z.number().nonnegative().nullish(),
      leaveKind: z.enum(['graceful', 'kill']).optional(),
      /** since adversaries: this viewer misbehaves from atS on */
      adversary: z.object({ kind: z.enum(['tamper', 'replay', 'withhold', 'trickle']), atS: z.number() }).optional(),
    }),
  ),
  /** since */
  churn: z
    .array(z.object({ atS: z.number().nonnegative(), kind: z.enum(['join', 'leave', 'kill']), viewerId: z.string() }))
    .optional(),
  /** graph scenarios: the links of each node to its parent on the CDN path */
  links: z.array(z.object({ a: z.string(), b: z.string(), latencyMs: z.number().nonnegative() })).optional(),
  /** since faults: components the lab killed on purpose */
  faults: z
    .array(
      z.object({
        kind: z.enum(['kill-edge', 'restart-tracker']),
        atS: z.number(),
        edgeId: z.string().optional(),
        downS: z.number().optional(),
      }),
    )
    .optional(),
  /** since signed fragments: the origin's Ed25519 public key of the run (base64 of 32 bytes) */
  originKey: z.string().optional(),
});

export type ResultsPlan = z.infer<typeof planSchema>;

/** Writes plan.json; again after the run with the key the origin made (`originKey`). */
export function writePlanFile(file: string, plan: RunPlan, run: { originKey?: string } = {}): void {
  writeJsonFile(file, planSchema, { ...planToJson(plan), ...run });
}

export function planToJson(plan: RunPlan): z.input<typeof planSchema> {
  const place = (id: string) => {
    const h = plan.hosts.get(id);
    return { id, lat: h?.lat, lon: h?.lon, region: h?.region };
  };
  const region = (id: string) => plan.hosts.get(id)?.region ?? '';
  return {
    scenario: plan.scenarioName,
    seed: plan.seed,
    kind: plan.kind,
    durationS: plan.durationS,
    stream: { ...plan.stream },
    broadcaster: place(plan.broadcasterId),
    origin: place(plan.originId),
    edges: plan.edges.map((e) => ({ ...place(e.id), region: region(e.id), parentId: e.parentId })),
    viewers: plan.viewers.map((v) => ({
      ...place(v.id),
      region: region(v.id),
      edgeId: v.edgeId,
      boundMs: v.boundMs,
      boundPropagationMs: v.boundPropagationMs,
      boundSerializationMs: v.boundSerializationMs,
      bottleneckBps: v.bottleneckBps,
      joinAtS: v.joinAtS,
      leaveAtS: v.leaveAtS,
      leaveKind: v.leaveKind,
      adversary: v.adversary,
    })),
    churn: plan.churn,
    faults: plan.faults,
    ...(plan.kind === 'graph' ? { links: graphLinks(plan) } : {}),
  };
}

function graphLinks(plan: RunPlan): Array<{ a: string; b: string; latencyMs: number }> {
  const links: Array<{ a: string; b: string; latencyMs: number }> = [];
  links.push({ a: plan.broadcasterId, b: plan.originId, latencyMs: plan.latencyMs(plan.broadcasterId, plan.originId) });
  for (const e of plan.edges) links.push({ a: e.parentId, b: e.id, latencyMs: plan.latencyMs(e.parentId, e.id) });
  for (const v of plan.viewers) links.push({ a: v.edgeId, b: v.id, latencyMs: plan.latencyMs(v.edgeId, v.id) });
  return links;
}
