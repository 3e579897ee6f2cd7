// The simulator as a backend: one mode of an experiment in virtual time (services/sim), its raw
// files written through the results contract like a service process writes them (raw/sim.*), so
// the lab summarizes a simulated run with the same code as an emulated one.
import { mkdirSync } from 'node:fs';
import { Prng } from '../../core/prng.js';
import { chunkRow } from '../../results/chunks.js';
import { eventRow } from '../../results/events.js';
import { proximityRow, rawAppender } from '../../results/raw.js';
import { AGGREGATE_ABOVE_VIEWERS, GRADE_MAX_VIEWERS, SAMPLED_VIEWERS } from '../../sim/constants.js';
import { Simulation, type SimResult } from '../../sim/engine.js';
import type { Backend, RawRunInfo } from './index.js';

export interface SimBackendOptions {
  /** simulate only each chunk's last release unit (default: above AGGREGATE_ABOVE_VIEWERS viewers) */
  aggregate?: boolean;
  /** told the simulator's own figures after each mode */
  onResult?: (mode: string, r: SimResult & { wallMs: number; aggregate: boolean; sampled: number }) => void;
}

export function simBackend(o: SimBackendOptions = {}): Backend {
  return async (run) => {
    const { plan } = run;
    mkdirSync(run.rawDir, { recursive: true });
    const aggregate = o.aggregate ?? plan.viewers.length > AGGREGATE_ABOVE_VIEWERS;
    // An aggregated run records a seeded uniform sample of viewers: every chunk and event of each.
    const rate = aggregate ? Math.min(1, SAMPLED_VIEWERS / Math.max(1, plan.viewers.length)) : 1;
    const sample = Prng.derive(plan.seed, 'sim-sample');
    const recordedViewers = new Set<string>();
    for (const v of plan.viewers) if (rate >= 1 || sample.next() < rate) recordedViewers.add(v.id);
    const chunks = rawAppender(run.rawDir, 'sim', 'chunks');
    const events = rawAppender(run.rawDir, 'sim', 'events');
    const proximity = run.mode === 'p2p' ? rawAppender(run.rawDir, 'sim', 'proximity') : undefined;
    let received = 0;
    const total = Math.floor((plan.durationS * 1e6) / plan.stream.chunkDurationUs);
    const t0 = performance.now();
    const sim = new Simulation(
      { plan, mode: run.mode, aggregate, recorded: (v) => recordedViewers.has(v.id) },
      {
        onChunk: (r) => {
          received++;
          chunks.row(chunkRow(r));
        },
        onEvent: (e) => events.row(eventRow(e)),
        onProximity: proximity && ((peer, node, rttMs) => proximity.row(proximityRow({ peer, node, rttMs }))),
        onProgress: (p) =>
          run.onProgress?.({ produced: Math.min(total, Math.round((p.simUs / p.totalUs) * total)), total, received }),
      },
    );
    const result = sim.run();
    const wallMs = performance.now() - t0;
    await chunks.close();
    await events.close();
    await proximity?.close();
    o.onResult?.(run.mode, { ...result, wallMs, aggregate, sampled: recordedViewers.size });
    const info: RawRunInfo = {
      plan,
      mode: run.mode,
      backend: 'sim',
      chunksProduced: result.chunksProduced,
      startUs: result.startUs,
      recordedViewers: rate < 1 ? recordedViewers : undefined,
      grade: plan.viewers.length <= GRADE_MAX_VIEWERS,
      extra: { linkShaping: 'model', reparents: result.reparents, lateChunks: result.fallbacks },
    };
    return info;
  };
}
