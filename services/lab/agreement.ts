// Agreement between two backends' runs of one scenario (`livepath compare-backends`): per viewer
// and per delivery path, the median and p95 chunk delay on each side and their ratio. It is how
// linkemu's model (local) is checked against the kernel shaping real bytes (mininet).
import type { DeliveryPath, Mode } from '../core/types.js';
import { Recorder } from '../core/stats.js';
import { PATH_OF_CODE, type ChunkTable } from '../results/chunks.js';

/**
 * The targets of DESIGN.md ("a local run with a Mininet run where the kernel shapes real bytes"):
 * per viewer and path, medians within 10 % and p95 within 15 % (|ratio − 1|).
 */
export const AGREEMENT_TARGET = { median: 0.1, p95: 0.15 } as const;

/** One viewer's chunks on one path in one run. */
export interface PathDelays {
  chunks: number;
  medianMs: number;
  p95Ms: number;
  /** median of the chunks' bounds: what the delay is compared with */
  boundMs: number;
}

export interface AgreementRow {
  mode: Mode;
  viewer: string;
  path: DeliveryPath;
  /** the reference run (local) and the checked one (mininet); absent when that run had no such chunk */
  a?: PathDelays;
  b?: PathDelays;
  /** b / a */
  medianRatio?: number;
  p95Ratio?: number;
  /** both ratios within AGREEMENT_TARGET */
  agrees: boolean;
}

/** Chunks that began before `skipFirstS` of the broadcast are start-up (joining), not steady state. */
export function delaysByViewerPath(
  table: ChunkTable,
  o: { startUs?: number; skipBeforeUs?: number } = {},
): Map<string, PathDelays> {
  const recorders = new Map<string, { delay: Recorder; bound: Recorder }>();
  for (let i = 0; i < table.rowCount; i++) {
    if (o.skipBeforeUs !== undefined && table.producedAtUs[i]! < o.skipBeforeUs) continue;
    const key = `${table.viewers[table.viewerIndex[i]!]}\t${PATH_OF_CODE[table.path[i]!]}`;
    let r = recorders.get(key);
    if (!r) {
      r = { delay: new Recorder(0.001), bound: new Recorder(0.001) };
      recorders.set(key, r);
    }
    r.delay.record(table.delayMs[i]!);
    r.bound.record(table.boundMs[i]!);
  }
  const out = new Map<string, PathDelays>();
  for (const [key, r] of recorders)
    out.set(key, {
      chunks: r.delay.count,
      medianMs: r.delay.percentile(50)!,
      p95Ms: r.delay.percentile(95)!,
      boundMs: r.bound.percentile(50)!,
    });
  return out;
}

/** Rows for every (viewer, path) either run has, in viewer then path order. */
export function agreementRows(mode: Mode, a: Map<string, PathDelays>, b: Map<string, PathDelays>): AgreementRow[] {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort((x, y) => x.localeCompare(y, 'en', { numeric: true }));
  return keys.map((key) => {
    const [viewer, path] = key.split('\t') as [string, DeliveryPath];
    const ra = a.get(key);
    const rb = b.get(key);
    const row: AgreementRow = { mode, viewer, path, agrees: false };
    if (ra) row.a = ra;
    if (rb) row.b = rb;
    if (ra && rb) {
      row.medianRatio = rb.medianMs / ra.medianMs;
      row.p95Ratio = rb.p95Ms / ra.p95Ms;
      row.agrees =
        Math.abs(row.medianRatio - 1) <= AGREEMENT_TARGET.median && Math.abs(row.p95Ratio - 1) <= AGREEMENT_TARGET.p95;
    }
    return row;
  });
}

/** The side-by-side table `livepath compare-backends` prints. */
export function formatAgreement(rows: readonly AgreementRow[], names: readonly [string, string]): string {
  const [na, nb] = names;
  const head = [
    'mode',
    'viewer',
    'path',
    `${na} chunks`,
    `${nb} chunks`,
    'bound ms',
    `${na} p50`,
    `${nb} p50`,
    'ratio',
    `${na} p95`,
    `${nb} p95`,
    'ratio',
    'agrees',
  ];
  const f = (x: number | undefined, d = 1) => (x === undefined ? '—' : x.toFixed(d));
  const lines = rows.map((r) => [
    r.mode,
    r.viewer,
    r.path,
    f(r.a?.chunks, 0),
    f(r.b?.chunks, 0),
    f(r.a?.boundMs ?? r.b?.boundMs),
    f(r.a?.medianMs),
    f(r.b?.medianMs),
    f(r.medianRatio, 3),
    f(r.a?.p95Ms),
    f(r.b?.p95Ms),
    f(r.p95Ratio, 3),
    r.medianRatio === undefined ? 'only one' : r.agrees ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const both = rows.filter((r) => r.medianRatio !== undefined);
  const agreeing = both.filter((r) => r.agrees).length;
  return [
    fmt(head),
    ...lines.map(fmt),
    '',
    `${agreeing} of ${both.length} (viewer, path) pairs within the target (median ±${AGREEMENT_TARGET.median * 100} %, p95 ±${AGREEMENT_TARGET.p95 * 100} %)`,
  ].join('\n');
}
