// Grades a p2p run's overlay against the reference tree (services/core/overlay/reference.ts):
// the tree a planner with the scenario's true latencies would build under the tracker's own
// limits. Planner gap = measured delay ÷ the reference's, at p50 and p95; the planner's final
// tree under the same model tells how much of the gap is the tree and how much the run.
import { queueingMs } from '../../core/overlay/model.js';
import { evaluateTree, referenceTree, type ReferenceInput } from '../../core/overlay/reference.js';
import { Recorder, type Distribution } from '../../core/stats.js';
import type { RunPlan } from '../../core/types.js';
import type { ReferenceSummary } from '../../results/summary.js';
import { overlaySettings } from '../../tracker/settings.js';

/** The reference problem of a run: roots with their modelled delays, viewers in join order. */
export function referenceInputOf(plan: RunPlan): ReferenceInput {
  const s = overlaySettings(plan);
  const host = (id: string) => {
    const h = plan.hosts.get(id);
    if (!h) throw new Error(`plan has no host ${id}`);
    return h;
  };
  const hop = (from: string, to: string) =>
    plan.latencyMs(from, to) + queueingMs(s.model, host(from).uplinkBps, host(to).downlinkBps, 0);
  const rootDelay = new Map<string, number>([[plan.originId, hop(plan.broadcasterId, plan.originId)]]);
  const delayOfRoot = (id: string, depth = 0): number => {
    const known = rootDelay.get(id);
    if (known !== undefined) return known;
    const edge = plan.edges.find((e) => e.id === id);
    // an edge chain that does not reach the origin (validation forbids it) has no delay
    if (!edge || depth > plan.edges.length) return Infinity;
    const d = delayOfRoot(edge.parentId, depth + 1) + hop(edge.parentId, id);
    rootDelay.set(id, d);
    return d;
  };
  const root = (id: string, slots: number) => ({
    id,
    uplinkBps: host(id).uplinkBps,
    downlinkBps: host(id).downlinkBps,
    delayMs: delayOfRoot(id),
    slots,
  });
  return {
    roots: [root(plan.originId, s.originSlots), ...plan.edges.map((e) => root(e.id, s.edgeSlots))],
    viewers: [...plan.viewers]
      .sort((a, b) => a.joinAtS - b.joinAtS || (a.id < b.id ? -1 : 1))
      .map((v) => ({ id: v.id, uplinkBps: host(v.id).uplinkBps, downlinkBps: host(v.id).downlinkBps })),
    latencyMs: (a, b) => plan.latencyMs(a, b),
    model: s.model,
    capacity: { bitrateBps: s.bitrateBps, headroom: s.headroom, maxFanout: s.maxFanout },
    // the tracker's budget: the share of the viewers present, at least its floor
    ...(s.cdnShare !== undefined && {
      rootBudget: Math.max(s.minRootFed, Math.floor(s.cdnShare * plan.viewers.length)),
    }),
  };
}

/**
 * The reference tree of a run, its delays weighted by `chunksPerViewer` (viewers that received
 * nothing do not count), and the final tree's delays under the same model when `finalParents` is
 * given. With churn the reference places every viewer of the plan at once: an approximation.
 */
export function gradeOverlay(
  plan: RunPlan,
  chunksPerViewer: ReadonlyMap<string, number>,
  finalParents?: ReadonlyMap<string, string>,
  nowMs: () => number = () => performance.now(),
): ReferenceSummary {
  const input = referenceInputOf(plan);
  const t0 = nowMs();
  const ref = referenceTree(input);
  const computeMs = nowMs() - t0;
  const weighted = (delays: ReadonlyMap<string, number>) => {
    const r = new Recorder(0.001);
    for (const [viewer, d] of delays) r.record(d, chunksPerViewer.get(viewer) ?? 0);
    return r.summary();
  };
  const roots = new Set(input.roots.map((r) => r.id));
  let fromPeers = 0;
  let all = 0;
  for (const [viewer, parent] of ref.parent) {
    const n = chunksPerViewer.get(viewer) ?? 0;
    all += n;
    if (!roots.has(parent)) fromPeers += n;
  }
  return {
    delayMs: weighted(ref.delayMs),
    offload: all > 0 ? Math.round((fromPeers / all) * 10_000) / 10_000 : 0,
    meanDelayMs: round3(ref.meanDelayMs),
    greedyMeanDelayMs: round3(ref.greedyMeanDelayMs),
    ...(finalParents && { finalTreeDelayMs: weighted(evaluateTree(input, finalParents).delayMs) }),
    moves: ref.moves,
    computeMs: Math.round(computeMs),
  };
}

/** measured ÷ reference at p50 and p95 (undefined when either is missing). */
export function plannerGap(measured: Distribution, reference: Distribution): { p50: number; p95: number } | undefined {
  if (!measured.p50 || !measured.p95 || !reference.p50 || !reference.p95) return undefined;
  return { p50: round3(measured.p50 / reference.p50), p95: round3(measured.p95 / reference.p95) };
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
