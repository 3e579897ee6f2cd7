// One simulated experiment: runExperiment with the simulator as its backend, so the results
// directory, summary and report are those of `livepath run`; progress lines carry an ETA.
import type { Mode, RunPlan } from '../../core/types.js';
import { simBackend, type SimBackendOptions } from '../backends/sim.js';
import { runExperiment, type ExperimentResult } from '../experiment.js';

export interface SimExperimentOptions {
  plan: RunPlan;
  scenarioPath: string;
  modes: Mode[];
  out: string;
  aggregate?: boolean;
  quiet?: boolean;
  onResult?: SimBackendOptions['onResult'];
}

/** How often a progress line is printed (ms of wall time). */
const PROGRESS_EVERY_MS = 2_000;

export async function runSimExperiment(o: SimExperimentOptions): Promise<ExperimentResult> {
  const { plan } = o;
  const say = (line: string) => {
    if (!o.quiet) process.stderr.write(line);
  };
  say(
    `livepath sim: ${plan.scenarioName} (seed ${plan.seed}): ${plan.viewers.length} viewers, ${plan.edges.length} edges, ${plan.durationS} s, mode ${o.modes.join('+')} → ${o.out}\n`,
  );
  let mode = '';
  let startMs = 0;
  let lastMs = 0;
  return runExperiment({
    plan,
    scenarioPath: o.scenarioPath,
    modes: o.modes,
    out: o.out,
    backend: simBackend({
      aggregate: o.aggregate,
      onResult: (m, r) => {
        const rssMiB = process.resourceUsage().maxRSS / 1024;
        say(
          `[${m}] simulated in ${(r.wallMs / 1000).toFixed(1)} s wall: ${r.events} events, planner ${(r.plannerMs / Math.max(1, r.joins)).toFixed(3)} ms per join, peak RSS ${rssMiB.toFixed(0)} MiB${r.aggregate ? `, aggregated per chunk, ${r.sampled} viewers recorded` : ''}\n`,
        );
        o.onResult?.(m, r);
      },
    }),
    progress: (m, p) => {
      const now = performance.now();
      if (m !== mode) {
        mode = m;
        startMs = now;
        lastMs = now;
        return;
      }
      if (now - lastMs < PROGRESS_EVERY_MS || p.produced >= p.total) return;
      lastMs = now;
      const elapsedS = (now - startMs) / 1000;
      const etaS = p.produced > 0 ? (elapsedS * (p.total - p.produced)) / p.produced : Number.NaN;
      say(
        `[${m}] ${p.produced}/${p.total} chunks simulated, ${p.received} deliveries recorded · ${elapsedS.toFixed(0)} s elapsed, ETA ${Number.isFinite(etaS) ? `${etaS.toFixed(0)} s` : '?'}\n`,
      );
    },
  });
}
