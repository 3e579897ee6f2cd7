// The human summary printed at the end of a run: paths side by side, one row per figure.
import type { Distribution } from '../../core/stats.js';
import type { Summary } from '../../results/summary.js';

const fmt = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '–' : v.toFixed(digits));
const dist = (d: Distribution, digits = 1) =>
  d.count === 0 ? '–' : `${fmt(d.p50, digits)} / ${fmt(d.p95, digits)} / ${fmt(d.p99, digits)}`;

export function formatTable(summaries: Summary[]): string {
  const cols = summaries.map((s) => `${s.mode} mode`);
  const rows: Array<[string, ...string[]]> = [
    ['viewers', ...summaries.map((s) => String(s.viewers))],
    ['production', ...summaries.map((s) => `${s.production.mode} (${s.production.releasesPerChunk}/chunk)`)],
    ['chunks received', ...summaries.map((s) => String(s.chunks))],
    ['chunks lost', ...summaries.map((s) => String(s.lostChunks))],
    ['delay ms p50/p95/p99 (all)', ...summaries.map((s) => dist(s.delayMs.all))],
    ['  via CDN path', ...summaries.map((s) => dist(s.delayMs.cdn))],
    ['  via peer path', ...summaries.map((s) => dist(s.delayMs.peer))],
    ['frame delay ms p50/p95/p99', ...summaries.map((s) => dist(s.fragmentDelayMs.all))],
    ['bound ms p50/p95/p99', ...summaries.map((s) => dist(s.boundMs))],
    ['chunks / frames below bound', ...summaries.map((s) => `${s.belowBound.chunks} / ${s.belowBound.fragments}`)],
    ['stretch p50/p95/p99', ...summaries.map((s) => dist(s.stretch.all, 3))],
    ['excess ms p50/p95/p99', ...summaries.map((s) => dist(s.excessMs))],
    ['offload (peer bytes)', ...summaries.map((s) => `${(s.offload * 100).toFixed(1)} %`)],
    [
      'join time ms p50/p95',
      ...summaries.map((s) => (s.joinTimeMs.count ? `${fmt(s.joinTimeMs.p50, 0)} / ${fmt(s.joinTimeMs.p95, 0)}` : '–')),
    ],
    ['stalls / re-parents / CDN fallbacks', ...summaries.map((s) => `${s.stalls} / ${s.reparents} / ${s.lateChunks}`)],
    [
      'reference tree ms p50/p95',
      ...summaries.map((s) =>
        s.reference ? `${fmt(s.reference.delayMs.p50)} / ${fmt(s.reference.delayMs.p95)}` : '–',
      ),
    ],
    [
      'planner gap p50/p95 (÷ reference)',
      ...summaries.map((s) => (s.plannerGap ? `${fmt(s.plannerGap.p50, 2)} / ${fmt(s.plannerGap.p95, 2)}` : '–')),
    ],
    [
      'proximity: RTT error p50, rank corr.',
      ...summaries.map((s) =>
        s.proximity
          ? `${(s.proximity.medianRelativeError * 100).toFixed(0)} %, ${s.proximity.rankCorrelation.toFixed(2)}`
          : '–',
      ),
    ],
    [
      'emulation error ms p50/p99',
      ...summaries.map(
        (s) => `${fmt(s.emulationErrorMs.p50, 2)} / ${fmt(s.emulationErrorMs.p99, 2)} (${s.linkShaping})`,
      ),
    ],
    [
      '  probes: error ms p50/p99',
      ...summaries.map((s) =>
        s.probeErrorMs?.count ? `${fmt(s.probeErrorMs.p50, 2)} / ${fmt(s.probeErrorMs.p99, 2)}` : '–',
      ),
    ],
    [
      '  timer lateness ms p50/p99',
      ...summaries.map((s) =>
        s.timerLatenessMs?.count ? `${fmt(s.timerLatenessMs.p50, 2)} / ${fmt(s.timerLatenessMs.p99, 2)}` : '–',
      ),
    ],
  ];
  const header: [string, ...string[]] = [`${summaries[0]?.scenario ?? ''} (seed ${summaries[0]?.seed ?? ''})`, ...cols];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
