// Planner replay: the tracker's planner fed a scenario's joins with exact RTTs (the true
// latencies of the plan), in the order and at the pace a run gives them, with the peers' re-probes
// and the periodic improvement rounds — no process, no emulation, no estimation error. Its final
// tree graded against the reference tree isolates the planner's own share of the planner gap.
import { evaluateTree, referenceTree } from '../services/core/overlay/reference.js';
import { OverlayPlanner } from '../services/core/overlay/planner.js';
import { Prng } from '../services/core/prng.js';
import { Recorder, type Distribution } from '../services/core/stats.js';
import type { RunPlan } from '../services/core/types.js';
import { referenceInputOf } from '../services/lab/results/reference.js';
import { REPROBE_FIRST_MS, REPROBE_INTERVAL_MS } from '../services/core/viewer/constants.js';
import {
  CANDIDATES_PER_ROUND,
  COOLDOWN_ROUNDS,
  HYSTERESIS_MS,
  HYSTERESIS_RATIO,
  IMPROVE_INTERVAL_MS,
  IMPROVE_MAX_MOVES_SHARE,
  IMPROVE_ON_REPORT_MAX_MOVES,
} from '../services/tracker/constants.js';
import { overlaySettings } from '../services/tracker/settings.js';

export interface ReplayResult {
  reference: Distribution;
  final: Distribution;
  /** the planner's tree at each second: model delay p50 / p95 */
  timeline: Array<{ atS: number; p50: number | null; p95: number | null }>;
  moves: number;
  /** the model's delays of the viewers present, one sample per viewer per improvement round: the run's distribution without emulation */
  run: Distribution;
  /** share of viewer-rounds fed by a root */
  rootFedShare: number;
}

const dist = (delays: Iterable<number>) => {
  const r = new Recorder(0.001);
  for (const d of delays) r.record(d);
  return r.summary();
};

export interface ReplayKnobs {
  maxMovesShare?: number;
  minRootFed?: number;
}

export function replayPlanner(plan: RunPlan, knobs: ReplayKnobs = {}): ReplayResult {
  const input = referenceInputOf(plan);
  const s = overlaySettings(plan);
  const planner = new OverlayPlanner(
    {
      model: s.model,
      bitrateBps: s.bitrateBps,
      headroom: s.headroom,
      maxFanout: s.maxFanout,
      rootShare: s.cdnShare,
      minRootFed: knobs.minRootFed ?? s.minRootFed,
      hysteresisMs: HYSTERESIS_MS,
      hysteresisRatio: HYSTERESIS_RATIO,
      cooldownRounds: COOLDOWN_ROUNDS,
      candidatesPerRound: CANDIDATES_PER_ROUND,
    },
    Prng.derive(plan.seed, 'tracker'),
  );
  for (const r of input.roots) planner.addRoot(r.id, r.slots, r.uplinkBps);
  const rootDelay = new Map(input.roots.map((r) => [r.id, r.delayMs]));
  const rtt = (a: string, b: string) => 2 * plan.latencyMs(a, b);
  const probe = (id: string, targets: string[]) =>
    targets.map((t) => ({ nodeId: t, rttMs: rtt(id, t), delayMs: rootDelay.get(t) ?? 0 }));
  // Events on a ms timeline: joins, first re-probes, periodic re-probes and improvement rounds.
  type Ev = { atMs: number; kind: 'join' | 'reprobe' | 'improve'; id: string };
  const events: Ev[] = [];
  for (const v of plan.viewers) events.push({ atMs: v.joinAtS * 1000, kind: 'join', id: v.id });
  const endMs = plan.durationS * 1000;
  for (let t = IMPROVE_INTERVAL_MS; t <= endMs; t += IMPROVE_INTERVAL_MS)
    events.push({ atMs: t, kind: 'improve', id: '' });
  for (const v of plan.viewers)
    for (let t = v.joinAtS * 1000 + REPROBE_FIRST_MS; t <= endMs; t += REPROBE_INTERVAL_MS)
      events.push({ atMs: t, kind: 'reprobe', id: v.id });
  events.sort((a, b) => a.atMs - b.atMs || (a.kind === b.kind ? 0 : a.kind === 'improve' ? 1 : -1));
  const timeline: ReplayResult['timeline'] = [];
  let moves = 0;
  const run = new Recorder(0.001);
  let fed = 0;
  let present = 0;
  const roots = new Set(input.roots.map((r) => r.id));
  const probed = new Map<string, Set<string>>();
  for (const e of events) {
    if (e.kind === 'join') {
      const host = plan.hosts.get(e.id)!;
      planner.register(e.id, 0);
      const seen = new Set<string>();
      probed.set(e.id, seen);
      for (let round = 0; round < 2; round++) {
        const fresh = planner.candidatesFor(e.id).filter((c) => !seen.has(c));
        for (const c of fresh) seen.add(c);
        planner.observe(e.id, probe(e.id, fresh));
      }
      planner.register(e.id, host.uplinkBps, host.downlinkBps);
      planner.join(e.id);
    } else if (e.kind === 'reprobe') {
      const seen = probed.get(e.id)!;
      const fresh = planner.candidatesFor(e.id).filter((c) => !seen.has(c));
      if (fresh.length === 0) continue;
      for (const c of fresh) seen.add(c);
      planner.observe(e.id, probe(e.id, fresh));
      moves += planner.improve(IMPROVE_ON_REPORT_MAX_MOVES, false).length;
    } else {
      const share = knobs.maxMovesShare ?? IMPROVE_MAX_MOVES_SHARE;
      moves += planner.improve(Math.max(1, Math.ceil(planner.peerCount * share))).length;
      const parents = new Map(planner.peers().map((id) => [id, planner.parentOf(id)!] as const));
      const d = evaluateTree(input, parents);
      for (const x of d.delayMs.values()) run.record(x);
      for (const p of parents.values()) if (roots.has(p)) fed++;
      present += parents.size;
      const dd = dist(d.delayMs.values());
      timeline.push({ atS: e.atMs / 1000, p50: dd.p50, p95: dd.p95 });
    }
  }
  const parents = new Map(planner.peers().map((id) => [id, planner.parentOf(id)!] as const));
  return {
    reference: dist(referenceTree(input).delayMs.values()),
    final: dist(evaluateTree(input, parents).delayMs.values()),
    timeline,
    moves,
    run: run.summary(),
    rootFedShare: present > 0 ? fed / present : 0,
  };
}
