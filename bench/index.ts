// `npm run bench`: the figures the issues ask for, each measured side by side in one run on
// this machine (ratios, not absolute promises): relay overhead per hop vs a bare grpc-js stream,
// emulation error at ≥ 100 viewers, and the peer path against the CDN path on the shipped
// scenarios (stretch, offload, metro median delay, loss under churn, re-parent latency).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlan } from '../services/runtime/plan.js';
import { runExperiment } from '../services/lab/experiment.js';
import { readCsvRows } from '../services/results/csv.js';
import { readEventsCsv } from '../services/results/events.js';
import { RAW_DIR, RESULTS_FILE } from '../services/results/layout.js';
import { DECISION_COLUMNS, parseDecisionRow, rawFile } from '../services/results/raw.js';
import type { Summary } from '../services/results/summary.js';
import { benchRelayHop } from './relay-hop.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const scenario = (name: string) => join(ROOT, 'scenarios', `${name}.yaml`);
const out = mkdtempSync(join(tmpdir(), 'livepath-bench-'));
const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);
const f = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? '–' : v.toFixed(d));
const line = (s = '') => process.stdout.write(`${s}\n`);

/** Planner gap: the p2p run's delay ÷ the reference tree's (full knowledge, the same limits). */
function gapLine(p2p: Summary): string {
  const ref = p2p.reference;
  if (!ref || !p2p.plannerGap) return 'planner gap              – (no reference tree)';
  return (
    `planner gap p50 / p95    ${f(p2p.plannerGap.p50, 2)} / ${f(p2p.plannerGap.p95, 2)}  (reference tree ${f(ref.delayMs.p50)} / ${f(ref.delayMs.p95)} ms;` +
    ` final tree under the model ${f(ref.finalTreeDelayMs?.p50)} / ${f(ref.finalTreeDelayMs?.p95)} ms)  target ≤ 1.10 / ≤ 1.25`
  );
}

async function experiment(name: string, modes: Array<'cdn' | 'p2p'>): Promise<Summary[]> {
  const path = scenario(name);
  process.stderr.write(`bench: running ${name} (${modes.join(' + ')})…\n`);
  const r = await runExperiment({ plan: loadPlan(path), scenarioPath: path, modes, out: join(out, name) });
  return r.summaries;
}

if (want('relay')) {
  process.stderr.write('bench: relay hop vs bare grpc-js (10 s)…\n');
  const r = await benchRelayHop(10);
  line('## Relay overhead per hop (16 KB fragments, 5 Mbit/s, fan-out 8, loopback, emulation off)');
  line(`bare grpc-js stream      delay ms p50 ${f(r.raw.p50, 2)}  p99 ${f(r.raw.p99, 2)}  (n=${r.raw.count})`);
  line(
    `+ one livepath relay hop delay ms p50 ${f(r.relayed.p50, 2)}  p99 ${f(r.relayed.p99, 2)}  (n=${r.relayed.count})`,
  );
  line(
    `relay hop adds           p50 ${f(r.relayed.p50! - r.raw.p50!, 2)} ms  p99 ${f(r.relayed.p99! - r.raw.p99!, 2)} ms  (ratio p50 ${f(r.relayed.p50! / r.raw.p50!, 2)}x)`,
  );
  line();
}

if (want('world')) {
  const [cdn, p2p] = await experiment('world', ['cdn', 'p2p']);
  line(`## world (${cdn!.viewers} viewers, 3 edges): CDN path vs peer path, side by side`);
  line('                              cdn mode          p2p mode       target (p2p)');
  line(
    `stretch p50 / p95        ${f(cdn!.stretch.all.p50, 3).padStart(7)} / ${f(cdn!.stretch.all.p95, 3).padEnd(7)}  ${f(p2p!.stretch.all.p50, 3).padStart(7)} / ${f(p2p!.stretch.all.p95, 3).padEnd(7)}  ≤ 1.15 / ≤ 1.5`,
  );
  line(
    `delay ms p50 / p95       ${f(cdn!.delayMs.all.p50).padStart(7)} / ${f(cdn!.delayMs.all.p95).padEnd(7)}  ${f(p2p!.delayMs.all.p50).padStart(7)} / ${f(p2p!.delayMs.all.p95).padEnd(7)}`,
  );
  line(
    `offload                  ${f(cdn!.offload * 100).padStart(7)} %          ${f(p2p!.offload * 100).padStart(7)} %          ≥ 95 %`,
  );
  line(
    `lost chunks              ${String(cdn!.lostChunks).padStart(7)}            ${String(p2p!.lostChunks).padStart(7)}`,
  );
  line(
    `emulation error ms p50/p99 ${f(cdn!.emulationErrorMs.p50, 2)} / ${f(cdn!.emulationErrorMs.p99, 2)}     ${f(p2p!.emulationErrorMs.p50, 2)} / ${f(p2p!.emulationErrorMs.p99, 2)}     ≤ 2 ms p99`,
  );
  const lateness = (s: typeof cdn) =>
    s!.timerLatenessMs ? `${f(s!.timerLatenessMs.p50, 2)} / ${f(s!.timerLatenessMs.p99, 2)}` : '–';
  line(`timer lateness ms p50/p99  ${lateness(cdn)}     ${lateness(p2p)}     (delays actions, not recorded arrivals)`);
  line(
    `proximity (RTT err p50, rank corr.)          ${p2p!.proximity ? `${f(p2p!.proximity.medianRelativeError * 100)} %, ${f(p2p!.proximity.rankCorrelation, 2)}` : '–'}`,
  );
  line(
    `join time ms p50         ${f(cdn!.joinTimeMs.p50, 0).padStart(7)}            ${f(p2p!.joinTimeMs.p50, 0).padStart(7)}`,
  );
  line(gapLine(p2p!));
  line();
}

if (want('metro')) {
  const [cdn, p2p] = await experiment('metro', ['cdn', 'p2p']);
  const gain = 1 - p2p!.delayMs.all.p50! / cdn!.delayMs.all.p50!;
  line(`## metro (${cdn!.viewers} viewers in cities far from every edge)`);
  line(
    `median delay ms          cdn ${f(cdn!.delayMs.all.p50)}   p2p ${f(p2p!.delayMs.all.p50)}   → peer path ${f(gain * 100)} % ${gain >= 0 ? 'lower' : 'higher'} (target ≥ 30 % lower)`,
  );
  line(
    `stretch p50              cdn ${f(cdn!.stretch.all.p50, 3)}   p2p ${f(p2p!.stretch.all.p50, 3)};  offload ${f(p2p!.offload * 100)} %`,
  );
  line(gapLine(p2p!));
  line();
}

if (want('churn')) {
  const [p2p] = await experiment('churn', ['p2p']);
  const plan = loadPlan(scenario('churn'));
  const killed = plan.viewers.filter((v) => v.leaveKind === 'kill').length;
  const raw = join(out, 'churn', RAW_DIR);
  // Re-parent latency: from each kill/leave to the tracker's parent-lost decisions that follow.
  const events = await readEventsCsv(join(out, 'churn', RESULTS_FILE.events));
  const departures = events.filter((e) => e.kind === 'kill' || e.kind === 'leave').map((e) => e.atUs);
  const decisions = await readCsvRows(rawFile(raw, 'tracker', 'decisions'), DECISION_COLUMNS, parseDecisionRow);
  const lags = decisions
    .filter((d) => d.reason === 'parent-lost')
    .map((d) => d.atUs)
    .map((t) => Math.min(...departures.filter((x) => x <= t).map((x) => (t - x) / 1000)))
    .filter((x) => Number.isFinite(x) && x < 5_000)
    .sort((a, b) => a - b);
  line(
    `## churn (${plan.viewers.length} viewers, ${killed} killed = ${f((killed / plan.viewers.length) * 100, 0)} %, graceful leaves and late joins)`,
  );
  line(
    `lost chunks ${p2p!.lostChunks} (target 0); stalls ${p2p!.stalls}; re-parents ${p2p!.reparents}; CDN fallbacks ${p2p!.lateChunks}`,
  );
  line(
    `orphan re-parent decision after a departure: p50 ${f(lags[Math.floor(lags.length / 2)])} ms, max ${f(lags[lags.length - 1])} ms over ${lags.length} orphans (target ≤ 1000 ms)`,
  );
  line();
}
line(`(results of every bench run: ${out})`);
