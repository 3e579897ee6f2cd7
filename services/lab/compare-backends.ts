// Runs one scenario on the local backend and on mininet, one after the other (never at once: the
// machine's two cores would measure each other), and compares each viewer's delays per path.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Mode, RunPlan } from '../core/types.js';
import { readChunksCsv } from '../results/chunks.js';
import { modeDir, RESULTS_FILE } from '../results/layout.js';
import type { Summary } from '../results/summary.js';
import { agreementRows, delaysByViewerPath, formatAgreement, type AgreementRow } from './agreement.js';
import type { BackendName } from './backends/index.js';
import { loadBackend } from './backends/index.js';
import { runExperiment } from './experiment.js';

export const COMPARED_BACKENDS = ['local', 'mininet'] as const satisfies readonly BackendName[];

export interface CompareBackendsOptions {
  plan: RunPlan;
  scenarioPath: string;
  modes: Mode[];
  out: string;
  /** chunks made in the first warmupS seconds are left out */
  warmupS: number;
}

/** What agreement.json holds. */
export interface BackendComparison {
  scenario: string;
  seed: number;
  backends: typeof COMPARED_BACKENDS;
  warmupS: number;
  /** per backend and mode: how the links were shaped and the emulation error (ms) of that run */
  runs: Array<{ backend: string; mode: Mode; linkShaping?: string; emulationErrorMs: Summary['emulationErrorMs'] }>;
  rows: AgreementRow[];
}

export async function compareBackends(o: CompareBackendsOptions): Promise<BackendComparison & { table: string }> {
  const runs: BackendComparison['runs'] = [];
  const delays = new Map<string, Map<string, ReturnType<typeof delaysByViewerPath>>>();
  for (const backend of COMPARED_BACKENDS) {
    const out = join(o.out, backend);
    const { summaries } = await runExperiment({
      plan: o.plan,
      scenarioPath: o.scenarioPath,
      modes: o.modes,
      out,
      backend: await loadBackend(backend),
    });
    const byMode = new Map<string, ReturnType<typeof delaysByViewerPath>>();
    for (const s of summaries) {
      runs.push({
        backend,
        mode: s.mode,
        ...(s.linkShaping && { linkShaping: s.linkShaping }),
        emulationErrorMs: s.emulationErrorMs,
      });
      const table = await readChunksCsv(join(modeDir(out, s.mode, o.modes), RESULTS_FILE.chunks));
      const firstUs = Math.min(...table.producedAtUs);
      byMode.set(s.mode, delaysByViewerPath(table, { skipBeforeUs: firstUs + o.warmupS * 1e6 }));
    }
    delays.set(backend, byMode);
  }
  const rows = o.modes.flatMap((mode) =>
    agreementRows(mode, delays.get('local')?.get(mode) ?? new Map(), delays.get('mininet')?.get(mode) ?? new Map()),
  );
  const comparison: BackendComparison = {
    scenario: o.plan.scenarioName,
    seed: o.plan.seed,
    backends: COMPARED_BACKENDS,
    warmupS: o.warmupS,
    runs,
    rows,
  };
  writeFileSync(join(o.out, 'agreement.json'), `${JSON.stringify(comparison, null, 2)}\n`);
  const errors = runs
    .map(
      (r) =>
        `${r.backend} ${r.mode}: ${r.linkShaping ?? 'linkemu'}, emulation error p50 ${r.emulationErrorMs.p50 ?? '—'} / p99 ${r.emulationErrorMs.p99 ?? '—'} ms`,
    )
    .join('\n');
  return { ...comparison, table: `${formatAgreement(rows, COMPARED_BACKENDS)}\n${errors}` };
}
