// The report page: headline table, "how to read this", and the chart sections around the
// pre-rendered SVGs. Produces one self-contained HTML string: inline CSS, no scripts, no fonts,
// no URLs, so it opens offline and can be mailed or archived as a single file.

import type { DeliveryPath } from '../../core/types.js';
import type { Distribution } from '../../core/stats.js';
import type { ModeResults, Results } from '../../results/read.js';
import type { ModeSummary, PathDistributions } from '../../results/summary.js';

/** A report page's opening, down to its title: one page frame for the run report and the sweep's. */
export function pageStart(title: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
<header>
<h1>${escapeHtml(title)}</h1>`;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export interface ReportSection {
  id: string;
  title: string;
  /** plain-text sentences shown above the chart */
  intro: string;
  svgs: string[];
  /** plain-text notes under the chart (downsampling, nodes not drawn, …) */
  notes: string[];
}

// ---------------------------------------------------------------------------------------------
// Number formats

function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return Math.abs(value) < 10 ? value.toFixed(2) : value.toFixed(1);
}
function ratio(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${value.toFixed(2)}×`;
}
function percent(value: number): string {
  return `${(value * 100).toFixed(1)} %`;
}
function integer(value: number): string {
  return value.toLocaleString('en-US');
}

// ---------------------------------------------------------------------------------------------
// Headline table

type Column = { mode: ModeResults; path: DeliveryPath | 'all'; label: string };

/** Sub-columns of a mode: each path that delivered chunks, plus "all" when there are two. */
function columnsOf(mode: ModeResults): Column[] {
  const paths = (['peer', 'cdn'] as const).filter((p) => mode.summary.delayMs[p].count > 0);
  const label = { cdn: 'CDN path', peer: 'peer path', all: 'all chunks' };
  if (paths.length === 1) return [{ mode, path: paths[0]!, label: label[paths[0]!] }];
  if (paths.length === 0) return [{ mode, path: 'all', label: 'no chunks' }];
  return [{ mode, path: 'all', label: label.all }, ...paths.map((p) => ({ mode, path: p, label: label[p] }))];
}

function isPerPath(value: Distribution | PathDistributions): value is PathDistributions {
  return 'all' in value;
}

type Row =
  | { kind: 'path'; label: string; cell: (s: ModeSummary, path: DeliveryPath | 'all') => string }
  | { kind: 'mode'; label: string; cell: (s: ModeSummary) => string };

const ROWS: Row[] = [
  { kind: 'path', label: 'chunks received', cell: (s, p) => integer(s.delayMs[p].count) },
  { kind: 'path', label: 'chunk delay p50 (ms)', cell: (s, p) => ms(s.delayMs[p].p50) },
  { kind: 'path', label: 'chunk delay p95 (ms)', cell: (s, p) => ms(s.delayMs[p].p95) },
  { kind: 'path', label: 'chunk delay p99 (ms)', cell: (s, p) => ms(s.delayMs[p].p99) },
  {
    kind: 'path',
    label: 'frame delay p50 / p95 (ms)',
    cell: (s, p) => (s.fragmentDelayMs ? `${ms(s.fragmentDelayMs[p].p50)} / ${ms(s.fragmentDelayMs[p].p95)}` : '–'),
  },
  { kind: 'path', label: 'stretch p50 (delay ÷ bound)', cell: (s, p) => ratio(s.stretch[p].p50) },
  { kind: 'path', label: 'stretch p95 (delay ÷ bound)', cell: (s, p) => ratio(s.stretch[p].p95) },
  {
    kind: 'path',
    label: 'excess p50 / p95 (delay − bound, ms)',
    cell: (s, p) => {
      const d = isPerPath(s.excessMs)
        ? s.excessMs[p]
        : p === 'all' || s.delayMs.all.count === s.delayMs[p].count
          ? s.excessMs
          : undefined;
      return d === undefined
        ? '<span class="na" title="summary.json gives excess for all chunks only">n/a</span>'
        : `${ms(d.p50)} / ${ms(d.p95)}`;
    },
  },
  {
    kind: 'mode',
    label: 'production (release unit)',
    cell: (s) =>
      s.production
        ? `${s.production.mode}, ${integer(s.production.releasesPerChunk)} × ${integer(s.production.releaseUnitBytes)} B per chunk`
        : '–',
  },
  {
    kind: 'mode',
    label: 'bound p50 / p95 (ms)',
    cell: (s) => `${ms(s.boundMs.p50)} / ${ms(s.boundMs.p95)}`,
  },
  {
    kind: 'mode',
    label: 'chunks / frames below their bound',
    cell: (s) => (s.belowBound ? `${integer(s.belowBound.chunks)} / ${integer(s.belowBound.fragments)}` : '–'),
  },
  { kind: 'mode', label: 'lost chunks', cell: (s) => integer(s.lostChunks) },
  { kind: 'mode', label: 'offload (bytes from peers)', cell: (s) => percent(s.offload) },
  { kind: 'mode', label: 'join time p50 / p95 (ms)', cell: (s) => `${ms(s.joinTimeMs.p50)} / ${ms(s.joinTimeMs.p95)}` },
  { kind: 'mode', label: 'stalls', cell: (s) => integer(s.stalls) },
  { kind: 'mode', label: 're-parents', cell: (s) => integer(s.reparents) },
  {
    kind: 'mode',
    label: 'reference tree delay p50 / p95 (ms)',
    cell: (s) => (s.reference ? `${ms(s.reference.delayMs.p50)} / ${ms(s.reference.delayMs.p95)}` : '–'),
  },
  {
    kind: 'mode',
    label: 'planner gap p50 / p95 (delay ÷ reference)',
    cell: (s) => (s.plannerGap ? `${ratio(s.plannerGap.p50)} / ${ratio(s.plannerGap.p95)}` : '–'),
  },
  {
    kind: 'mode',
    label: 'proximity: RTT error p50, rank corr.',
    cell: (s) =>
      s.proximity ? `${percent(s.proximity.medianRelativeError)}, ${s.proximity.rankCorrelation.toFixed(2)}` : '–',
  },
  { kind: 'mode', label: 'emulation error p99 (ms)', cell: (s) => ms(s.emulationErrorMs.p99) },
  {
    kind: 'mode',
    label: 'timer lateness p99 (ms)',
    cell: (s) => (s.timerLatenessMs ? ms(s.timerLatenessMs.p99) : '–'),
  },
];

export function headlineTable(results: Results): string {
  const groups = results.modes.map((m) => ({ mode: m, columns: columnsOf(m) }));
  const head1 = groups
    .map((g) => `<th colspan="${g.columns.length}" class="mode mode-${g.mode.mode}">${g.mode.mode} mode</th>`)
    .join('');
  const head2 = groups
    .flatMap((g) => g.columns.map((c, i) => `<th class="sub${i === 0 ? ' first' : ''}">${escapeHtml(c.label)}</th>`))
    .join('');
  const body = ROWS.map((row) => {
    const cells = groups
      .map((g) => {
        if (row.kind === 'mode') {
          return `<td colspan="${g.columns.length}" class="first mode-wide">${row.cell(g.mode.summary)}</td>`;
        }
        return g.columns
          .map((c, i) => `<td${i === 0 ? ' class="first"' : ''}>${row.cell(g.mode.summary, c.path)}</td>`)
          .join('');
      })
      .join('');
    return `<tr><th scope="row">${escapeHtml(row.label)}</th>${cells}</tr>`;
  }).join('\n');
  return `<table class="headline">
<thead><tr><th rowspan="2"></th>${head1}</tr><tr>${head2}</tr></thead>
<tbody>
${body}
</tbody>
</table>`;
}

/** One sentence with the answer, when both modes ran. */
function verdict(results: Results): string {
  const cdn = results.modes.find((m) => m.mode === 'cdn')?.summary;
  const p2p = results.modes.find((m) => m.mode === 'p2p')?.summary;
  if (cdn === undefined || p2p === undefined) {
    const only = results.modes[0]?.summary;
    if (only === undefined) return '';
    return `Only the ${only.mode} mode ran: median chunk delay ${ms(only.delayMs.all.p50)} ms, median stretch ${ratio(only.stretch.all.p50)}.`;
  }
  return (
    `Median stretch: ${ratio(cdn.stretch.all.p50)} on the CDN path (cdn mode) vs ${ratio(p2p.stretch.all.p50)} in p2p mode ` +
    `(${ratio(p2p.stretch.peer.p50)} for chunks that came over the peer path); ` +
    `p95 chunk delay ${ms(cdn.delayMs.all.p95)} ms vs ${ms(p2p.delayMs.all.p95)} ms; peers delivered ${percent(p2p.offload)} of the bytes.`
  );
}

// ---------------------------------------------------------------------------------------------

export const REPORT_CSS = `
*{box-sizing:border-box}
body{margin:0;background:#f6f7f9;color:#1d2330;font:15px/1.5 "DejaVu Sans",Helvetica,Arial,sans-serif}
main{max-width:1200px;margin:0 auto;padding:24px 32px 48px;background:#fff;min-height:100vh}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:19px;margin:36px 0 6px;padding-top:12px;border-top:1px solid #e3e6ea}
.meta{color:#555;margin:0 0 16px}
.verdict{font-size:16px;background:#f1f6fb;border-left:4px solid #4c78a8;padding:10px 14px;margin:16px 0}
nav ol{columns:2;margin:8px 0 0;padding-left:20px;color:#555}
nav a{color:#2b5d8c}
.howto{background:#fafafa;border:1px solid #e3e6ea;padding:10px 16px;margin:16px 0}
.howto dt{font-weight:bold;display:inline}
.howto dd{display:inline;margin:0}
.howto dd::after{content:"";display:block;margin-bottom:4px}
table.headline{border-collapse:collapse;margin:12px 0;font-variant-numeric:tabular-nums;width:100%}
table.headline th,table.headline td{padding:5px 10px;border-bottom:1px solid #e8eaee;text-align:right;white-space:nowrap}
table.headline tbody th{text-align:left;font-weight:normal;color:#333}
table.headline thead th{border-bottom:2px solid #c9ced6}
table.headline th.mode{text-align:center;font-size:15px}
table.headline th.mode-cdn{background:#e8f0f8}
table.headline th.mode-p2p{background:#fdf0e2}
table.headline th.sub{font-weight:normal;color:#555;font-size:13px}
table.headline .first{border-left:2px solid #c9ced6}
table.headline td.mode-wide{text-align:center;color:#333}
table.headline .na{color:#999}
figure{margin:8px 0 0}
figure svg{max-width:100%;height:auto;display:block;margin:8px 0}
.intro{margin:4px 0 8px;max-width:900px}
.note{color:#666;font-size:13px;margin:4px 0}
footer{margin-top:40px;color:#777;font-size:12px}
`;

export function reportPage(results: Results, sections: readonly ReportSection[], generatedAt: Date): string {
  const modes = results.modes.map((m) => m.mode).join(' and ');
  const first = results.modes[0];
  const viewers = first?.summary.viewers ?? 0;
  const chunks = first?.summary.chunks ?? 0;
  const kind = first?.plan.kind ?? 'geo';
  const stream = first?.plan.stream;
  const streamText = stream
    ? `${(stream.bitrateBps / 1e6).toFixed(2)} Mbit/s, ${(stream.chunkDurationUs / 1000).toFixed(0)} ms chunks of ${integer(Math.round(stream.chunkBytes))} bytes`
    : '';
  const title = `livepath report — ${results.scenario}`;
  const toc = sections.map((s) => `<li><a href="#${s.id}">${escapeHtml(s.title)}</a></li>`).join('');
  const body = sections
    .map(
      (s) => `<section id="${s.id}">
<h2>${escapeHtml(s.title)}</h2>
<p class="intro">${escapeHtml(s.intro)}</p>
<figure>
${s.svgs.join('\n')}
</figure>
${s.notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('\n')}
</section>`,
    )
    .join('\n');
  return `${pageStart(title)}
<p class="meta">Scenario <b>${escapeHtml(results.scenario)}</b> (${kind}), seed ${escapeHtml(String(results.seed))} ·
${escapeHtml(modes)} mode${results.modes.length > 1 ? 's' : ''} · ${integer(viewers)} viewers · ${integer(chunks)} chunks · ${escapeHtml(streamText)}</p>
</header>
<p class="verdict">${escapeHtml(verdict(results))}</p>
<section id="how-to-read">
<h2>How to read this</h2>
<dl class="howto">
<dt>Chunk delay:</dt> <dd>time from the broadcaster producing a chunk to the viewer holding its last byte.</dd>
<dt>Bound:</dt> <dd>the physical limit of a viewer: one-way propagation along the shortest path from the broadcaster in the scenario’s network, plus one chunk’s serialization at the bottleneck. No path can beat it.</dd>
<dt>Stretch</dt> <dd>= delay ÷ bound: 1.00× is perfect, 2× means twice the physical limit.</dd>
<dt>Excess</dt> <dd>= delay − bound, in ms: what the path adds on top of physics (detours, queueing, relaying).</dd>
<dt>Offload</dt> <dd>= share of chunk bytes delivered to viewers by peers instead of edges or the origin.</dd>
<dt>Reference tree, planner gap:</dt> <dd>the overlay a planner with the scenario’s true latencies would build under the tracker’s own limits (greedy, then local search until no move lowers the mean delay); planner gap = measured delay ÷ the reference’s. Beside the proximity error (how wrong the measured RTTs were) it tells estimation error from planning error.</dd>
<dt>CDN path vs peer path:</dt> <dd>in cdn mode every viewer pulls from its nearest edge (origin → edge → viewer); in p2p mode viewers relay to nearby viewers, and a chunk that misses its deadline falls back to the CDN path, so p2p mode has rows on both paths.</dd>
</dl>
</section>
<section id="headline">
<h2>Headline numbers</h2>
<p class="intro">Percentiles are over all chunks received by all viewers (from summary.json). Rows spanning a mode are per-mode totals.</p>
${headlineTable(results)}
</section>
<nav><b>Charts</b><ol>${toc}</ol></nav>
${body}
<footer>Generated ${escapeHtml(generatedAt.toISOString())} by livepath from ${escapeHtml(results.layout === 'both' ? 'cdn/, p2p/ and comparison.json' : 'one mode’s result files')}. Self-contained: no scripts, fonts or network.</footer>
</main>
</body>
</html>
`;
}
