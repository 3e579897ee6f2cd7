// The report of a sweep (`livepath sweep`): offload against delay p50/p95 for both paths, one point
// per variant, with the reference tree's point — the curve an operator picks a setting from —
// and a table of the variants linking to each one's own report. One self-contained page, like
// report.html.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { SweepResult } from '../commands/sweep.js';
import { CHART_CONFIG, colourScale, OFFLOAD_AXIS, percentileDash } from './charts.js';
import { CHART_HEIGHT_PX, CHART_WIDTH_PX, PATH_COLOURS } from './constants.js';
import { escapeHtml, pageStart } from './html.js';
import { renderSvg } from './svg.js';

export const SWEEP_SERIES = {
  cdn: 'cdn mode (CDN path)',
  p2p: 'p2p mode',
  reference: 'reference tree (full knowledge)',
} as const;

const SERIES_COLOURS: Record<string, string> = {
  [SWEEP_SERIES.cdn]: PATH_COLOURS['cdn mode · CDN path']!,
  [SWEEP_SERIES.p2p]: PATH_COLOURS['p2p mode · peer path']!,
  [SWEEP_SERIES.reference]: '#54a24b',
};

export interface SweepChartPoint {
  series: string;
  percentile: 'p50' | 'p95';
  /** series and percentile: one line each */
  line: string;
  variant: string;
  order: number;
  offload: number;
  delayMs: number;
}

/** One point per variant, path and percentile (variants without that path are left out). */
export function sweepChartPoints(sweep: SweepResult): SweepChartPoint[] {
  const out: SweepChartPoint[] = [];
  sweep.variants.forEach((v, order) => {
    const label = Object.values(v.settings).map(String).join(', ');
    for (const [key, series] of Object.entries(SWEEP_SERIES) as Array<[keyof typeof SWEEP_SERIES, string]>) {
      const p = v[key];
      if (!p) continue;
      // A CDN point shared by every variant is labelled once, not overprinted with each value.
      const shared = key === 'cdn' && sweep.variants.some((other) => other.cdn?.from !== other.name);
      const text = shared ? (order === 0 ? 'every value' : '') : label;
      for (const percentile of ['p50', 'p95'] as const) {
        const delayMs = percentile === 'p50' ? p.delayP50Ms : p.delayP95Ms;
        if (delayMs === null) continue;
        out.push({
          series,
          percentile,
          line: `${series} ${percentile}`,
          variant: text,
          order,
          offload: p.offload,
          delayMs,
        });
      }
    }
  });
  return out;
}

export function sweepSpec(points: readonly SweepChartPoint[], keys: string): TopLevelSpec {
  const series = [...new Set(points.map((p) => p.series))];
  const colour = {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: colourScale(series, SERIES_COLOURS),
    legend: { orient: 'bottom', direction: 'horizontal' },
  } as const;
  const dash = percentileDash('percentile', ['p50', 'p95']);
  return {
    // The report's look; the legend's labels name swept values, which run longer.
    config: { ...CHART_CONFIG, legend: { ...CHART_CONFIG.legend, labelLimit: 300 } },
    width: CHART_WIDTH_PX,
    height: CHART_HEIGHT_PX + 80,
    title: {
      text: `Offload against chunk delay, one point per value of ${keys}`,
      subtitle: [
        'Solid: p50 of all chunks; dashed: p95. Each label is the swept value. Right is less CDN; down is faster.',
        'The reference tree is the same setting planned with full knowledge of the latencies.',
      ],
    },
    data: { values: [...points] },
    encoding: {
      x: OFFLOAD_AXIS,
      y: { field: 'delayMs', type: 'quantitative', title: 'chunk delay (ms)', scale: { zero: true } },
      color: colour,
      detail: { field: 'line', type: 'nominal' },
    },
    layer: [
      { mark: { type: 'line', strokeWidth: 2 }, encoding: { order: { field: 'order' }, strokeDash: dash } },
      { mark: { type: 'point', filled: true, size: 60 } },
      {
        mark: { type: 'text', dx: 6, dy: -8, align: 'left', fontSize: 10 },
        encoding: { text: { field: 'variant', type: 'nominal' } },
      },
    ],
  } as TopLevelSpec;
}

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toFixed(1));
const pct = (v: number | undefined) => (v === undefined ? '—' : `${(v * 100).toFixed(1)} %`);

/** The sweep page for an already-read sweep.json (also used by tests). */
export async function buildSweepHtml(sweep: SweepResult, generatedAt = new Date()): Promise<string> {
  const keys = sweep.sets.map((s) => s.key).join(' × ');
  const svg = await renderSvg('sweep', sweepSpec(sweepChartPoints(sweep), keys));
  const rows = sweep.variants
    .map((v) => {
      const cells = [
        `<a href="${escapeHtml(v.dir)}/report.html">${escapeHtml(v.name)}</a>`,
        pct(v.p2p?.offload),
        `${ms(v.p2p?.delayP50Ms)} / ${ms(v.p2p?.delayP95Ms)}`,
        `${ms(v.cdn?.delayP50Ms)} / ${ms(v.cdn?.delayP95Ms)}`,
        `${pct(v.reference?.offload)}: ${ms(v.reference?.delayP50Ms)} / ${ms(v.reference?.delayP95Ms)}`,
        v.p2p?.plannerGap ? `${v.p2p.plannerGap.p50.toFixed(2)}× / ${v.p2p.plannerGap.p95.toFixed(2)}×` : '—',
        String(v.p2p?.lostChunks ?? '—'),
      ];
      return `<tr>${cells.map((c, i) => (i === 0 ? `<th scope="row">${c}</th>` : `<td>${c}</td>`)).join('')}</tr>`;
    })
    .join('\n');
  const cdnShared = sweep.variants.some((v) => v.cdn && v.cdn.from !== v.name);
  const title = `livepath sweep — ${sweep.scenario}: ${keys}`;
  return `${pageStart(title)}
<p class="meta">Scenario <b>${escapeHtml(sweep.scenario)}</b>, seed ${escapeHtml(String(sweep.seed))} · ${sweep.variants.length} variants of ${escapeHtml(sweep.sets.map((s) => `${s.key} = ${s.values.map(String).join(', ')}`).join('; '))}</p>
</header>
<section id="sweep">
<h2>The trade-off</h2>
<p class="intro">${escapeHtml(
    'Every byte a peer delivers is a byte the CDN does not serve; the chart shows what each setting costs in delay for it. ' +
      'The reference tree is where a planner with full knowledge of the latencies would put the same setting: ' +
      'the gap between it and the p2p mode is planning and estimation error, the gap between it and the CDN path is physics.',
  )}</p>
<figure>
${svg}
</figure>
${cdnShared ? `<p class="note">${escapeHtml('The swept keys only change the peer path: the CDN path ran once (with the first variant) and its point stands for every variant.')}</p>` : ''}
</section>
<section id="variants">
<h2>Variants</h2>
<table class="headline" style="font-size:13px">
<thead><tr><th>variant</th><th>p2p offload</th><th>p2p delay p50 / p95 (ms)</th><th>CDN delay p50 / p95 (ms)</th><th>reference offload: p50 / p95</th><th>planner gap p50 / p95</th><th>p2p lost</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</section>
<footer>Generated ${escapeHtml(generatedAt.toISOString())} by livepath from sweep.json and each variant's results. Self-contained: no scripts, fonts or network.</footer>
</main>
</body>
</html>
`;
}

/** Reads DIR/sweep.json and writes DIR/report.html; returns its path. */
export async function renderSweepReport(dir: string): Promise<string> {
  const sweep = JSON.parse(await readFile(join(dir, 'sweep.json'), 'utf8')) as SweepResult;
  const target = join(dir, 'report.html');
  await writeFile(`${target}.partial`, await buildSweepHtml(sweep));
  await rename(`${target}.partial`, target);
  return target;
}
