// `livepath sim --scale 1e2,1e3,…`: the scenario simulated at each audience size (its clusters
// scaled in proportion), each size a full results directory with its own report, then
// scaling.json and the scaling report: delay per path, stretch, tree depth, planner work per
// join and offload against audience size.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Mode } from '../../core/types.js';
import type { Scenario } from '../../core/scenario/schema.js';
import { writeJsonFile } from '../../results/json.js';
import type { Summary } from '../../results/summary.js';
import { planFor } from '../commands/sim.js';
import {
  renderScalingReport,
  SCALING_FILE,
  scalingSchema,
  type Scaling,
  type ScalingPoint,
} from '../report/scaling.js';
import { runSimExperiment } from './run.js';

export interface ScalingOptions {
  scenario: Scenario;
  scenarioPath: string;
  sizes: number[];
  modes: Mode[];
  out: string;
  seed?: number;
  aggregate?: boolean;
  quiet?: boolean;
}

function pathFigures(s: Summary | undefined, path: 'cdn' | 'peer') {
  if (!s) return undefined;
  const d = s.delayMs[path];
  if (d.count === 0) return undefined;
  return { delayP50Ms: d.p50, delayP95Ms: d.p95, stretchP50: s.stretch[path].p50, stretchP95: s.stretch[path].p95 };
}

export async function runScaling(o: ScalingOptions): Promise<Scaling> {
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  const points: ScalingPoint[] = [];
  let seed = o.seed ?? o.scenario.seed;
  for (const viewers of [...o.sizes].sort((a, b) => a - b)) {
    const plan = planFor(o.scenario, viewers, o.seed);
    seed = plan.seed;
    const dir = `viewers-${viewers}`;
    const sim: Record<
      string,
      { wallMs: number; meanDepth: number; plannerMs: number; joins: number; aggregate: boolean }
    > = {};
    const result = await runSimExperiment({
      plan,
      scenarioPath: o.scenarioPath,
      modes: o.modes,
      out: join(out, dir),
      aggregate: o.aggregate,
      quiet: o.quiet,
      onResult: (mode, r) => {
        sim[mode] = r;
      },
    });
    const cdn = result.summaries.find((s) => s.mode === 'cdn');
    const p2p = result.summaries.find((s) => s.mode === 'p2p');
    points.push({
      viewers: plan.viewers.length,
      dir,
      aggregated: Object.values(sim).some((s) => s.aggregate),
      wallMs: Object.fromEntries(Object.entries(sim).map(([m, s]) => [m, Math.round(s.wallMs)])),
      cdn: pathFigures(cdn, 'cdn'),
      peer: pathFigures(p2p, 'peer'),
      p2pCdn: pathFigures(p2p, 'cdn'),
      offload: p2p?.offload,
      meanDepth: sim.p2p?.meanDepth,
      plannerMsPerJoin: sim.p2p && sim.p2p.joins > 0 ? sim.p2p.plannerMs / sim.p2p.joins : undefined,
      lostChunks: Object.fromEntries(result.summaries.map((s) => [s.mode, s.lostChunks])),
    });
  }
  const scaling: Scaling = { scenario: o.scenario.name, seed, modes: o.modes, points };
  writeJsonFile(join(out, SCALING_FILE), scalingSchema, scaling);
  const report = await renderScalingReport(out);
  if (!o.quiet) process.stderr.write(`livepath sim: scaling report ${report}\n`);
  process.stdout.write(`${formatScaling(scaling)}\n\nresults: ${out}\nreport:  ${report}\n`);
  return scaling;
}

/** The scaling figures as a table for the terminal (and the bench). */
export function formatScaling(s: Scaling): string {
  const f = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? '–' : v.toFixed(d));
  const rows = [
    'viewers     wall s (cdn / p2p)   CDN p50/p95 ms   peer p50/p95 ms   stretch peer p50/p95   offload   depth   planner ms/join',
  ];
  for (const p of s.points)
    rows.push(
      [
        String(p.viewers).padEnd(10),
        `${f((p.wallMs.cdn ?? Number.NaN) / 1000)} / ${f((p.wallMs.p2p ?? Number.NaN) / 1000)}`.padEnd(20),
        `${f(p.cdn?.delayP50Ms)} / ${f(p.cdn?.delayP95Ms)}`.padEnd(16),
        `${f(p.peer?.delayP50Ms)} / ${f(p.peer?.delayP95Ms)}`.padEnd(17),
        `${f(p.peer?.stretchP50, 2)} / ${f(p.peer?.stretchP95, 2)}`.padEnd(22),
        (p.offload === undefined ? '–' : `${(p.offload * 100).toFixed(1)} %`).padEnd(9),
        f(p.meanDepth, 2).padEnd(7),
        f(p.plannerMsPerJoin, 3),
      ].join(' '),
    );
  return rows.join('\n');
}
