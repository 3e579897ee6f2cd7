// The report of a scaling run (`livepath sim --scale`): against audience size, chunk delay p50 and
// p95 per path, stretch, the peer tree's depth, the planner's work per join and offload, with a
// table linking each size's own report. One self-contained page, like report.html.
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { z } from 'zod';
import { readJsonFile } from '../../results/json.js';
import { CHART_CONFIG, colourScale, percentileDash } from './charts.js';
import { CHART_HEIGHT_PX, CHART_WIDTH_PX, PATH_COLOURS } from './constants.js';
import { escapeHtml, pageStart } from './html.js';
import { renderSvg } from './svg.js';

export const SCALING_FILE = 'scaling.json';

const nullable = z.number().nullable();
const pathSchema = z
  .object({ delayP50Ms: nullable, delayP95Ms: nullable, stretchP50: nullable, stretchP95: nullable })
  .optional();

export const scalingPointSchema = z.object({
  viewers: z.number().int().positive(),
  /** this size's results directory, relative to the scaling directory */
  dir: z.string(),
  /** simulated per chunk (last release unit) rather than per fragment */
  aggregated: z.boolean(),
  /** wall-clock ms the simulator took, per mode */
  wallMs: z.record(z.string(), z.number()),
  /** cdn mode, CDN path */
  cdn: pathSchema,
  /** p2p mode, peer path */
  peer: pathSchema,
  /** p2p mode, CDN path (roots' own children, fast start) */
  p2pCdn: pathSchema,
  offload: z.number().optional(),
  /** mean hops from a root of the viewers on the peer tree at the end */
  meanDepth: z.number().optional(),
  /** wall-clock ms the planner spent per join (all its calls ÷ joins) */
  plannerMsPerJoin: z.number().optional(),
  lostChunks: z.record(z.string(), z.number()),
});

export const scalingSchema = z.object({
  scenario: z.string(),
  seed: z.number(),
  modes: z.array(z.enum(['cdn', 'p2p'])),
  points: z.array(scalingPointSchema),
});

export type Scaling = z.infer<typeof scalingSchema>;
export type ScalingPoint = z.infer<typeof scalingPointSchema>;

interface Row {
  viewers: number;
  series: string;
  percentile?: 'p50' | 'p95';
  line: string;
  value: number;
}

/** One line chart against audience size (log scale), a line per series (and percentile). */
export function scalingSpec(title: string, subtitle: string, yTitle: string, rows: Row[], yFormat?: string) {
  const series = [...new Set(rows.map((r) => r.series))];
  return {
    config: { ...CHART_CONFIG, legend: { ...CHART_CONFIG.legend, orient: 'bottom' } },
    width: CHART_WIDTH_PX,
    height: CHART_HEIGHT_PX * 0.7,
    title: { text: title, subtitle },
    data: { values: rows },
    encoding: {
      x: { field: 'viewers', type: 'quantitative', title: 'viewers', scale: { type: 'log' }, axis: { format: '~s' } },
      y: {
        field: 'value',
        type: 'quantitative',
        title: yTitle,
        scale: { zero: true },
        ...(yFormat && { axis: { format: yFormat } }),
      },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        scale: colourScale(series, PATH_COLOURS),
      },
      detail: { field: 'line', type: 'nominal' },
    },
    layer: [
      {
        mark: { type: 'line', strokeWidth: 2 },
        encoding: {
          strokeDash: percentileDash('percentile', ['p50', 'p95']),
        },
      },
      { mark: { type: 'point', filled: true, size: 50 } },
    ],
  } as TopLevelSpec;
}

type PathKey = 'cdn' | 'peer' | 'p2pCdn';
const PATHS: Array<[PathKey, string]> = [
  ['cdn', 'cdn mode · CDN path'],
  ['peer', 'p2p mode · peer path'],
  ['p2pCdn', 'p2p mode · CDN path'],
];

function pathRows(s: Scaling, p50: 'delayP50Ms' | 'stretchP50', p95: 'delayP95Ms' | 'stretchP95'): Row[] {
  const rows: Row[] = [];
  for (const point of s.points)
    for (const [key, series] of PATHS) {
      const figures = point[key];
      if (!figures) continue;
      for (const [percentile, field] of [
        ['p50', p50],
        ['p95', p95],
      ] as const) {
        const value = figures[field];
        if (value !== null)
          rows.push({ viewers: point.viewers, series, percentile, line: `${series} ${percentile}`, value });
      }
    }
  return rows;
}

function single(s: Scaling, series: string, value: (p: ScalingPoint) => number | undefined): Row[] {
  return s.points.flatMap((p) => {
    const v = value(p);
    return v === undefined ? [] : [{ viewers: p.viewers, series, line: series, value: v }];
  });
}

export async function buildScalingHtml(s: Scaling, generatedAt = new Date()): Promise<string> {
  const charts = [
    await renderSvg(
      'scaling-delay',
      scalingSpec(
        'Chunk delay against audience size',
        'Solid: p50; dashed: p95, per mode and path.',
        'chunk delay (ms)',
        pathRows(s, 'delayP50Ms', 'delayP95Ms'),
      ),
    ),
    await renderSvg(
      'scaling-stretch',
      scalingSpec(
        'Stretch against audience size',
        'Delay ÷ bound. Solid: p50; dashed: p95.',
        'stretch',
        pathRows(s, 'stretchP50', 'stretchP95'),
      ),
    ),
    await renderSvg(
      'scaling-depth',
      scalingSpec(
        'Peer tree depth against audience size',
        'Mean hops from a root (origin or edge) at the end of the run.',
        'mean depth (hops)',
        single(s, 'p2p mode · peer path', (p) => p.meanDepth),
      ),
    ),
    await renderSvg(
      'scaling-planner',
      scalingSpec(
        'Planner work per join against audience size',
        "Wall-clock time of the planner's calls (joins, candidates, reports, improvement rounds) ÷ joins.",
        'ms per join',
        single(s, 'p2p mode · peer path', (p) => p.plannerMsPerJoin),
      ),
    ),
    await renderSvg(
      'scaling-offload',
      scalingSpec(
        'Offload against audience size',
        'Share of chunk bytes viewers got from peers.',
        'offload',
        single(s, 'p2p mode · peer path', (p) => p.offload),
        '.0%',
      ),
    ),
  ];
  const f = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? '—' : v.toFixed(d));
  const rows = s.points
    .map((p) => {
      const cells = [
        `<a href="${escapeHtml(p.dir)}/report.html">${p.viewers}</a>`,
        `${f((p.wallMs.cdn ?? Number.NaN) / 1000)} / ${f((p.wallMs.p2p ?? Number.NaN) / 1000)}${p.aggregated ? ' (per chunk)' : ''}`,
        `${f(p.cdn?.delayP50Ms)} / ${f(p.cdn?.delayP95Ms)}`,
        `${f(p.peer?.delayP50Ms)} / ${f(p.peer?.delayP95Ms)}`,
        p.offload === undefined ? '—' : `${(p.offload * 100).toFixed(1)} %`,
        f(p.meanDepth, 2),
        f(p.plannerMsPerJoin, 3),
        Object.entries(p.lostChunks)
          .map(([m, n]) => `${m} ${n}`)
          .join(', '),
      ];
      return `<tr>${cells.map((c, i) => (i === 0 ? `<th scope="row">${c}</th>` : `<td>${c}</td>`)).join('')}</tr>`;
    })
    .join('\n');
  const title = `livepath sim — ${s.scenario} from ${s.points[0]?.viewers ?? 0} to ${s.points.at(-1)?.viewers ?? 0} viewers`;
  return `${pageStart(title)}
<p class="meta">Scenario <b>${escapeHtml(s.scenario)}</b>, seed ${s.seed}, simulated at ${s.points.length} audience sizes (the scenario's clusters scaled in proportion); modes ${escapeHtml(s.modes.join(', '))}</p>
</header>
<section id="scaling">
<h2>Against audience size</h2>
<p class="intro">${escapeHtml(
    'Each size is one simulated run of the same scenario with the services’ own planner and viewer policy. ' +
      'Sizes marked “per chunk” were simulated per chunk (its last release unit) and record a sample of viewers; see each size’s report.',
  )}</p>
${charts.map((svg) => `<figure>\n${svg}\n</figure>`).join('\n')}
</section>
<section id="sizes">
<h2>Sizes</h2>
<table class="headline" style="font-size:13px">
<thead><tr><th>viewers</th><th>wall s (cdn / p2p)</th><th>CDN delay p50 / p95 (ms)</th><th>peer delay p50 / p95 (ms)</th><th>offload</th><th>mean depth</th><th>planner ms / join</th><th>lost</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</section>
<footer>Generated ${escapeHtml(generatedAt.toISOString())} by livepath from scaling.json and each size's results. Self-contained: no scripts, fonts or network.</footer>
</main>
</body>
</html>
`;
}

/** Reads DIR/scaling.json and writes DIR/report.html; returns its path. */
export async function renderScalingReport(dir: string): Promise<string> {
  const scaling = await readJsonFile(join(dir, SCALING_FILE), scalingSchema);
  const target = join(dir, 'report.html');
  await writeFile(`${target}.partial`, await buildScalingHtml(scaling));
  await rename(`${target}.partial`, target);
  return target;
}
