// `livepath run`: one experiment = one scenario + seed through one or both paths, each mode in
// its own directory of results, then a comparison, a printed table and the report.
import { existsSync, lstatSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { Mode, RunPlan } from '../core/types.js';
import type { Backend, BackendRunOptions, ProcSpec } from './backends/index.js';
import { runLocal } from './backends/local.js';
import { writeJsonFile } from '../results/json.js';
import { LOGS_DIR, modeDir, RAW_DIR, RESULTS_FILE } from '../results/layout.js';
import { writePlanFile } from '../results/plan.js';
import { comparisonSchema, type Comparison } from '../results/summary.js';
import type { Summary } from '../results/summary.js';
import { summarize } from './results/summarize.js';
import type { PrometheusRun, ScrapeJob } from './prometheus.js';

export interface ExperimentOptions {
  plan: RunPlan;
  scenarioPath: string;
  modes: Mode[];
  out: string;
  backend?: Backend;
  viewersPerHost?: number;
  signal?: AbortSignal;
  progress?: (mode: Mode, p: { produced: number; total: number; received: number }) => void;
  /** a Prometheus the caller started (and stops): every process of every mode becomes a target */
  prometheus?: Pick<PrometheusRun, 'addTargets'>;
}

/** The Helm chart's job names, so one dashboard serves every backend. */
const SCRAPE_JOB_OF_ROLE: Record<ProcSpec['role'], ScrapeJob> = {
  origin: 'livepath-origin',
  edge: 'livepath-edge',
  peers: 'livepath-peer',
  tracker: 'livepath-tracker',
};

export interface ExperimentResult {
  out: string;
  summaries: Summary[];
}

export function defaultOutDir(scenarioName: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return join('results', `${stamp}-${scenarioName}`);
}

export async function runExperiment(o: ExperimentOptions): Promise<ExperimentResult> {
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  pointLatestAt(out);
  const summaries: Summary[] = [];
  for (const mode of o.modes) {
    if (o.signal?.aborted) break;
    const dir = modeDir(out, mode, o.modes);
    mkdirSync(dir, { recursive: true });
    writePlanFile(join(dir, RESULTS_FILE.plan), o.plan);
    const rawDir = join(dir, RAW_DIR);
    rmSync(rawDir, { recursive: true, force: true });
    const info = await (o.backend ?? runLocal)({
      plan: o.plan,
      scenarioPath: o.scenarioPath,
      mode,
      rawDir,
      logDir: join(dir, LOGS_DIR),
      viewersPerHost: o.viewersPerHost,
      signal: o.signal,
      onProgress: (p) => o.progress?.(mode, p),
      onServiceReady: o.prometheus && registerTarget(o.prometheus, mode),
    });
    // The run plan publishes the key the origin made, so the records can be checked later.
    if (info.originKey) writePlanFile(join(dir, RESULTS_FILE.plan), o.plan, { originKey: info.originKey });
    summaries.push(await summarize(rawDir, dir, info));
  }
  if (o.modes.length > 1) {
    const comparison: Comparison = {
      scenario: o.plan.scenarioName,
      seed: o.plan.seed,
      modes: summaries.map((s) => s.mode),
    };
    for (const s of summaries) comparison[s.mode] = s;
    writeJsonFile(join(out, RESULTS_FILE.comparison), comparisonSchema, comparison);
  }
  return { out, summaries };
}

function registerTarget(
  prometheus: Pick<PrometheusRun, 'addTargets'>,
  mode: Mode,
): BackendRunOptions['onServiceReady'] {
  return async (spec, p) => {
    if (!p.metricsUrl) return;
    const job = SCRAPE_JOB_OF_ROLE[spec.role];
    // Target labels: `role` as the chart sets it, `mode` to tell the cdn run from the p2p run.
    await prometheus.addTargets(job, [
      { address: new URL(p.metricsUrl).host, labels: { role: job.slice('livepath-'.length), mode } },
    ]);
  };
}

/** results/latest → the newest run, when the run lives under a results/ folder. */
function pointLatestAt(out: string): void {
  const parent = dirname(out);
  if (basename(parent) !== 'results') return;
  const latest = join(parent, 'latest');
  try {
    if (existsSync(latest) || lstatSync(latest, { throwIfNoEntry: false })) rmSync(latest, { force: true });
    symlinkSync(relative(parent, out), latest);
  } catch {
    // A missing symlink is a convenience lost, not a reason to fail the run.
  }
}
