// `npm run bench`: the figures the issues ask for, each measured side by side in one run on
// this machine (ratios, not absolute promises): relay overhead per hop vs a bare grpc-js stream,
// emulation error at ≥ 100 viewers, and the peer path against the CDN path on the shipped
// scenarios in both production regimes (frame-paced and segment: delay, frame delay, stretch,
// offload, the position cost of fan-out, metro median delay), loss under churn, re-parent latency.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import type { Production } from '../services/core/types.js';
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

/**
 * A shipped scenario in both production regimes, CDN and peer path each: frame-paced as shipped,
 * and the same scenario with whole chunks handed over (`production: segment`, written beside the
 * results since every process of a run loads the scenario from its file).
 */
async function bothProductions(name: string): Promise<Record<Production, [Summary, Summary]>> {
  const shipped = parse(readFileSync(scenario(name), 'utf8'));
  const segmentPath = join(out, `${name}-segment.yaml`);
  writeFileSync(segmentPath, stringify({ ...shipped, stream: { ...shipped.stream, production: 'segment' } }));
  const run = async (production: Production, path: string) => {
    process.stderr.write(`bench: running ${name}, ${production} production (cdn + p2p)…\n`);
    const r = await runExperiment({
      plan: loadPlan(path),
      scenarioPath: path,
      modes: ['cdn', 'p2p'],
      out: join(out, `${name}-${production}`),
    });
    return r.summaries as [Summary, Summary];
  };
  return { progressive: await run('progressive', scenario(name)), segment: await run('segment', segmentPath) };
}

/** One figure of each of the four runs, in columns: progressive cdn, p2p, segment cdn, p2p. */
function row(label: string, runs: Record<Production, [Summary, Summary]>, cell: (s: Summary) => string): string {
  const cells = [...runs.progressive, ...runs.segment].map((s) => cell(s).padStart(15));
  return `${label.padEnd(30)}${cells.join('')}`;
}

const pair = (d: { p50: number | null; p95: number | null } | undefined, digits = 1) =>
  `${f(d?.p50, digits)} / ${f(d?.p95, digits)}`;

function productionTable(name: string, runs: Record<Production, [Summary, Summary]>): void {
  const [cdn] = runs.progressive;
  line(`## ${name} (${cdn.viewers} viewers): CDN path vs peer path, frame-paced vs segment production, one run each`);
  line(`${''.padEnd(30)}${'progressive'.padStart(22)}${''.padStart(8)}${'segment'.padStart(18)}`);
  line(`${''.padEnd(30)}${['cdn', 'p2p', 'cdn', 'p2p'].map((m) => m.padStart(15)).join('')}`);
  line(row('chunk delay ms p50 / p95', runs, (s) => pair(s.delayMs.all)));
  line(row('bound ms p50 / p95', runs, (s) => pair(s.boundMs)));
  line(row('stretch p50 / p95', runs, (s) => pair(s.stretch.all, 2)));
  line(row('frame delay ms p50 / p95', runs, (s) => pair(s.fragmentDelayMs?.all)));
  line(row('offload %', runs, (s) => f(s.offload * 100)));
  line(row('lost chunks', runs, (s) => String(s.lostChunks)));
  line(row('below bound (chunks/frames)', runs, (s) => `${s.belowBound?.chunks} / ${s.belowBound?.fragments}`));
  line(
    row(
      'emulation error ms p50 / p99',
      runs,
      (s) => `${f(s.emulationErrorMs.p50, 2)} / ${f(s.emulationErrorMs.p99, 2)}`,
    ),
  );
  line(
    row(
      'timer lateness ms p50 / p99',
      runs,
      (s) => `${f(s.timerLatenessMs?.p50, 2)} / ${f(s.timerLatenessMs?.p99, 2)}`,
    ),
  );
  line(row('join time ms p50', runs, (s) => f(s.joinTimeMs.p50, 0)));
  line(row('re-parents', runs, (s) => String(s.reparents)));
  // The position cost of fan-out on peer uplinks: a copy's wait by the child's place in line.
  const positions = Math.max(0, ...[runs.progressive[1], runs.segment[1]].map((s) => s.positionWaitMs?.length ?? 0));
  for (let i = 0; i < positions; i++)
    line(
      row(`peer uplink wait, child ${i} p50/p95`, runs, (s) =>
        s.mode === 'p2p'
          ? pair(
              s.positionWaitMs?.find((w) => w.position === i),
              2,
            )
          : '',
      ),
    );
  for (const production of ['progressive', 'segment'] as const) {
    const [c, p] = runs[production];
    const ratio = (a: number | null, b: number | null) => (a !== null && b !== null ? f(a / b, 2) : '–');
    line(
      `${production}: p2p ÷ cdn delay p50 ${ratio(p.delayMs.all.p50, c.delayMs.all.p50)}, p95 ${ratio(p.delayMs.all.p95, c.delayMs.all.p95)}` +
        `; median ${f((1 - (p.delayMs.all.p50 ?? 0) / (c.delayMs.all.p50 ?? 1)) * 100)} % ${(p.delayMs.all.p50 ?? 0) <= (c.delayMs.all.p50 ?? 0) ? 'lower' : 'higher'} on the peer path`,
    );
    line(`${production}: ${gapLine(p)}`);
  }
  line();
}

if (want('world')) {
  const runs = await bothProductions('world');
  productionTable('world', runs);
  const [, p2p] = runs.progressive;
  line(
    `world progressive: proximity (RTT err p50, rank corr.) ${p2p.proximity ? `${f(p2p.proximity.medianRelativeError * 100)} %, ${f(p2p.proximity.rankCorrelation, 2)}` : '–'}`,
  );
  line();
}

if (want('metro')) productionTable('metro', await bothProductions('metro'));

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
