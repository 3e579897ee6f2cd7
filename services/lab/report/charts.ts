// Vega-Lite specs of the report's charts, built from the aggregated tables (aggregate.ts). Pure
// functions: data in, spec out; svg.ts renders them. Colours come from constants.ts so a path or
// a role reads the same in every chart.

import type { TopLevelSpec } from 'vega-lite';
import {
  BOUND_SERIES,
  type CdfPoint,
  type OffloadBar,
  type OverlayDrawing,
  type StretchData,
  type TimeSeries,
} from './aggregate.js';
import {
  CHART_HEIGHT_PX,
  CHART_WIDTH_PX,
  EVENT_COLOURS,
  MAP_HEIGHT_PX,
  MAX_COLOURED_REGIONS,
  MAX_LABELLED_GRAPH_NODES,
  PATH_COLOURS,
  ROLE_COLOURS,
} from './constants.js';

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

/**
 * The look of every chart of a report, the run's and the sweep's: no external fonts, readable
 * sizes, white background for printing.
 */
export const CHART_CONFIG = {
  // Per-mark ARIA labels repeat every datum as text: they would double the file for no reader.
  aria: false,
  font: FONT,
  background: 'white',
  title: { anchor: 'start', fontSize: 15, subtitleFontSize: 12, subtitleColor: '#555', offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260, symbolStrokeWidth: 3, symbolSize: 120 },
  view: { stroke: '#ccc' },
} as const;

/** A colour scale over `domain` from `palette`; grey for what the palette does not name. */
export function colourScale(domain: readonly string[], palette: Record<string, string>) {
  return { domain: [...domain], range: domain.map((d) => palette[d] ?? '#888') };
}

/**
 * A two-percentile line encoding: the first value of `domain` (p50, median) solid, the second (p95)
 * dashed — one dash for every chart of the run, sweep and scaling reports.
 */
export function percentileDash(field: string, domain: readonly [string, string], title: string | null = null) {
  return {
    field,
    type: 'nominal',
    title,
    scale: {
      domain: [...domain],
      range: [
        [1, 0],
        [6, 4],
      ],
    },
  } as const;
}

/** Offload on an axis: the share of chunk bytes viewers got from peers, 0–100 %. */
export const OFFLOAD_AXIS = {
  field: 'offload',
  type: 'quantitative' as const,
  title: 'offload (share of chunk bytes from peers)',
  scale: { domain: [0, 1] },
  axis: { format: '.0%' },
};

function present(values: readonly string[]): string[] {
  return [...new Set(values)];
}

// ---------------------------------------------------------------------------------------------

export function cdfSpec(points: readonly CdfPoint[]): TopLevelSpec {
  const series = present(points.map((p) => p.series));
  const colour = {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: colourScale(series, PATH_COLOURS),
    legend: { orient: 'bottom', direction: 'horizontal', columns: 4 },
  } as const;
  return {
    config: CHART_CONFIG,
    width: CHART_WIDTH_PX,
    height: CHART_HEIGHT_PX,
    title: {
      text: 'Chunk delay CDF per path',
      subtitle:
        'Share of chunks whose last byte reached the viewer within x ms of being produced; dashed: the viewers’ bound for the same chunks.',
    },
    data: { values: [...points] },
    encoding: {
      x: { field: 'delayMs', type: 'quantitative', title: 'chunk delay (ms)' },
      y: {
        field: 'fraction',
        type: 'quantitative',
        title: 'share of chunks delivered (%)',
        axis: { format: '.0%' },
        scale: { domain: [0, 1] },
      },
      color: colour,
    },
    layer: [
      {
        transform: [{ filter: { field: 'series', equal: BOUND_SERIES } }],
        mark: { type: 'line', interpolate: 'step-after', strokeDash: [5, 4], strokeWidth: 1.5 },
      },
      {
        transform: [{ filter: { not: { field: 'series', equal: BOUND_SERIES } } }],
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------

export function stretchSpec(data: StretchData): TopLevelSpec {
  if (data.kind === 'ranks') {
    const series = present(data.ranks.map((r) => r.series));
    return {
      config: CHART_CONFIG,
      width: CHART_WIDTH_PX,
      height: CHART_HEIGHT_PX,
      title: {
        text: 'Stretch per viewer (median over its chunks), viewers sorted',
        subtitle: 'Each viewer’s median delay ÷ its bound; 1 is the physical limit. Only one mode in this run.',
      },
      data: { values: [...data.ranks] },
      mark: { type: 'line', point: { size: 16 }, strokeWidth: 2 },
      encoding: {
        x: { field: 'rank', type: 'quantitative', title: 'viewers, sorted by stretch (%)', axis: { format: '.0%' } },
        y: { field: 'stretch', type: 'quantitative', title: 'median stretch (delay ÷ bound)', scale: { zero: false } },
        color: {
          field: 'series',
          type: 'nominal',
          title: null,
          scale: {
            domain: series,
            range: series.map((s) =>
              s.startsWith('cdn') ? PATH_COLOURS['cdn mode · CDN path']! : PATH_COLOURS['p2p mode · peer path']!,
            ),
          },
          legend: { orient: 'bottom' },
        },
      },
    };
  }
  const values = data.pairs.flatMap((p) => [p.cdnStretch, p.p2pStretch]);
  const lo = values.length ? Math.min(1, ...values) : 1;
  const hi = values.length ? Math.max(...values) : 2;
  const regions = present(data.pairs.map((p) => p.region));
  const colour =
    regions.length <= MAX_COLOURED_REGIONS
      ? ({ field: 'region', type: 'nominal', title: 'viewer region', scale: { scheme: 'tableau10' } } as const)
      : ({ value: PATH_COLOURS['p2p mode · peer path']! } as const);
  return {
    config: CHART_CONFIG,
    width: CHART_HEIGHT_PX + 160,
    height: CHART_HEIGHT_PX + 160,
    title: {
      text: 'Stretch per viewer: CDN mode vs P2P mode',
      subtitle: [
        'One point per viewer: its median stretch (delay ÷ bound) in each mode.',
        'Below the diagonal the peer path brought the viewer closer to its bound.',
      ],
    },
    layer: [
      {
        data: { values: [{ s: lo }, { s: hi }] },
        mark: { type: 'line', color: '#999', strokeDash: [4, 4] },
        // Same scales as the points: a layer left on defaults would pull the shared y axis to 0.
        encoding: {
          x: { field: 's', type: 'quantitative', scale: { domain: [lo, hi], nice: true } },
          y: { field: 's', type: 'quantitative', scale: { domain: [lo, hi], nice: true } },
        },
      },
      {
        data: { values: [...data.pairs] },
        mark: { type: 'point', filled: true, size: 40, opacity: 0.75 },
        encoding: {
          x: {
            field: 'cdnStretch',
            type: 'quantitative',
            title: 'median stretch in CDN mode (delay ÷ bound)',
            scale: { domain: [lo, hi], nice: true },
          },
          y: {
            field: 'p2pStretch',
            type: 'quantitative',
            title: 'median stretch in P2P mode (delay ÷ bound)',
            scale: { domain: [lo, hi], nice: true },
          },
          color: colour,
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------

export function delayOverTimeSpec(series: TimeSeries, modes: readonly string[]): TopLevelSpec {
  const kinds = present(series.churn.map((c) => c.kind));
  const perMode = modes.map((mode) => {
    const points = series.points.filter((p) => p.mode === mode);
    const lineSeries = present(points.map((p) => p.series));
    const layers: object[] = [
      {
        data: { values: points },
        // Straight segments: a smoothed curve would invent delays between chunks.
        mark: { type: 'line', strokeWidth: 1.8 },
        encoding: {
          x: { field: 'timeS', type: 'quantitative', title: 'time since the first chunk was produced (s)' },
          y: { field: 'delayMs', type: 'quantitative', title: 'chunk delay (ms)' },
          color: {
            field: 'series',
            type: 'nominal',
            title: 'path',
            scale: colourScale(lineSeries, PATH_COLOURS),
            legend: { orient: 'right' },
          },
          strokeDash: percentileDash('statistic', ['median', 'p95'], 'statistic'),
          detail: { field: 'statistic', type: 'nominal' },
        },
      },
    ];
    const churn = series.churn.filter((c) => c.mode === mode);
    if (churn.length > 0) {
      layers.push({
        data: { values: churn },
        mark: { type: 'rule', strokeWidth: 1, opacity: 0.55 },
        encoding: {
          x: { field: 'timeS', type: 'quantitative' },
          color: {
            field: 'kind',
            type: 'nominal',
            title: 'churn event',
            scale: colourScale(kinds, EVENT_COLOURS),
            legend: { orient: 'right' },
          },
        },
      });
    }
    return {
      width: CHART_WIDTH_PX - 180,
      height: Math.round(CHART_HEIGHT_PX * 0.8),
      title: { text: `${mode} mode`, fontSize: 13 },
      layer: layers,
      resolve: { scale: { color: 'independent' } },
    };
  });
  return {
    config: CHART_CONFIG,
    // Each mode has its own series, so each row keeps its own colour legend.
    resolve: { scale: { x: 'shared', color: 'independent', strokeDash: 'shared' } },
    title: {
      text: 'Chunk delay over time, per path',
      subtitle:
        (series.seqsPerPoint > 1
          ? `One point per ${series.seqsPerPoint} consecutive chunks. `
          : 'One point per chunk. ') +
        'Solid: median over viewers; dashed: p95. Vertical rules: viewers joining, leaving or killed.',
    },
    vconcat: perMode,
  } as TopLevelSpec;
}

// ---------------------------------------------------------------------------------------------

export function offloadSpec(bars: readonly OffloadBar[]): TopLevelSpec {
  const modes = present(bars.map((b) => b.mode));
  const modeColour: Record<string, string> = {
    cdn: PATH_COLOURS['cdn mode · CDN path']!,
    p2p: PATH_COLOURS['p2p mode · peer path']!,
  };
  return {
    config: CHART_CONFIG,
    width: CHART_WIDTH_PX - 300,
    height: { step: 22 },
    title: {
      text: 'Offload: share of chunk bytes delivered by peers',
      subtitle:
        'Per mode (from summary.json) and per viewer region (chunks received over the peer path ÷ all chunks received).',
    },
    data: { values: [...bars] },
    encoding: {
      y: { field: 'label', type: 'nominal', title: null, sort: null, axis: { labelLimit: 320 } },
      x: OFFLOAD_AXIS,
    },
    layer: [
      {
        mark: { type: 'bar', height: { band: 0.75 } },
        encoding: {
          color: {
            field: 'mode',
            type: 'nominal',
            title: 'mode',
            scale: colourScale(modes, modeColour),
          },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 },
        encoding: { text: { field: 'offload', type: 'quantitative', format: '.1%' } },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------

// Links take the colour of the path they belong to; the two infrastructure links stay neutral
// so the eye goes to the last hop, which is where CDN and peer paths differ.
const LINK_COLOURS: Record<string, string> = {
  'broadcaster → origin': '#444444',
  'CDN tree (origin → edge)': '#9a9a9a',
  'CDN path (→ viewer)': PATH_COLOURS['cdn mode · CDN path']!,
  'peer path (viewer → viewer)': PATH_COLOURS['p2p mode · peer path']!,
};
const ROLE_ORDER = ['broadcaster', 'origin', 'edge', 'viewer'];
const ROLE_SIZE = { broadcaster: 140, origin: 120, edge: 90, viewer: 28 };

function linkColour(kinds: readonly string[]) {
  return {
    field: 'kind',
    type: 'nominal',
    title: 'parent → child',
    scale: colourScale(kinds, LINK_COLOURS),
    legend: { orient: 'bottom', direction: 'horizontal' },
  } as const;
}

function roleEncoding(roles: readonly string[]) {
  return {
    color: {
      field: 'role',
      type: 'nominal',
      title: 'node',
      scale: colourScale(roles, ROLE_COLOURS),
      legend: { orient: 'bottom', direction: 'horizontal' },
    },
    size: {
      field: 'role',
      type: 'ordinal',
      legend: null,
      scale: { domain: [...roles], range: roles.map((r) => ROLE_SIZE[r as keyof typeof ROLE_SIZE] ?? 28) },
    },
  } as const;
}

/** The lon/lat box to show: the world, unless every node sits in a smaller area. */
function mapFit(drawing: OverlayDrawing): object | undefined {
  const placed = drawing.nodes.filter((n) => n.lat !== undefined && n.lon !== undefined);
  if (placed.length < 2) return undefined;
  const lats = placed.map((n) => n.lat!);
  const lons = placed.map((n) => n.lon!);
  const [latMin, latMax, lonMin, lonMax] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  // A run spanning continents reads best on the whole world; a metro or one-country run would be
  // a dot on it, so the map zooms to the nodes plus a margin.
  if (lonMax - lonMin > 150 || latMax - latMin > 70) return undefined;
  const padLat = Math.max(2, (latMax - latMin) * 0.15);
  const padLon = Math.max(2, (lonMax - lonMin) * 0.15);
  return {
    type: 'Feature',
    properties: {},
    geometry: {
      type: 'MultiPoint',
      coordinates: [
        [lonMin - padLon, Math.max(-89, latMin - padLat)],
        [lonMax + padLon, Math.min(89, latMax + padLat)],
      ],
    },
  };
}

export function overlayMapSpec(drawing: OverlayDrawing, countriesTopology: object): TopLevelSpec {
  const roles = ROLE_ORDER.filter((r) => drawing.nodes.some((n) => n.role === r));
  const geoLinks = drawing.links.filter((l) => l.fromLat !== undefined && l.toLat !== undefined);
  const kinds = present(geoLinks.map((l) => l.kind));
  const fit = mapFit(drawing);
  const nodes = drawing.nodes
    .filter((n) => n.lat !== undefined)
    .sort((a, b) => ROLE_ORDER.indexOf(b.role) - ROLE_ORDER.indexOf(a.role)); // viewers first, under the infrastructure
  return {
    config: CHART_CONFIG,
    width: CHART_WIDTH_PX,
    height: MAP_HEIGHT_PX,
    title: {
      text: `Overlay at the end of the run — ${drawing.mode} mode`,
      subtitle: 'Each line joins a parent to its child; origin, edges and viewers at their scenario places.',
    },
    projection: { type: 'equalEarth', ...(fit ? { fit } : {}) },
    layer: [
      {
        data: { values: countriesTopology, format: { type: 'topojson', feature: 'countries' } },
        mark: { type: 'geoshape', fill: '#eef0f2', stroke: '#b8bec5', strokeWidth: 0.5, clip: true },
      },
      {
        data: { values: geoLinks },
        mark: { type: 'rule', strokeWidth: 1.1, opacity: 0.7, clip: true },
        encoding: {
          longitude: { field: 'fromLon', type: 'quantitative' },
          latitude: { field: 'fromLat', type: 'quantitative' },
          longitude2: { field: 'toLon' },
          latitude2: { field: 'toLat' },
          color: linkColour(kinds),
        },
      },
      {
        data: { values: nodes },
        mark: { type: 'circle', opacity: 0.95, stroke: 'white', strokeWidth: 0.6, clip: true },
        encoding: {
          longitude: { field: 'lon', type: 'quantitative' },
          latitude: { field: 'lat', type: 'quantitative' },
          ...roleEncoding(roles),
        },
      },
    ],
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}

export function overlayGraphSpec(drawing: OverlayDrawing): TopLevelSpec {
  const roles = ROLE_ORDER.filter((r) => drawing.nodes.some((n) => n.role === r));
  const kinds = present(drawing.links.map((l) => l.kind));
  const maxDepth = Math.max(1, ...drawing.nodes.map((n) => n.depth));
  // Every layer states the same axes: vega-lite fails merging a titled axis with an untitled one.
  const depthAxis = {
    field: 'depth',
    type: 'quantitative',
    title: 'relay hops from the broadcaster',
    scale: { domain: [-0.3, maxDepth + 0.3] },
    axis: { tickMinStep: 1, format: 'd' },
  } as const;
  const rowAxis = {
    field: 'y',
    type: 'quantitative',
    title: null,
    axis: null,
    scale: { domain: [-0.06, 1.06] },
  } as const;
  const layers: object[] = [
    {
      data: { values: drawing.links },
      mark: { type: 'rule', strokeWidth: 1.4, opacity: 0.75 },
      encoding: {
        x: { ...depthAxis, field: 'fromDepth' },
        y: { ...rowAxis, field: 'fromY' },
        x2: { field: 'toDepth' },
        y2: { field: 'toY' },
        color: linkColour(kinds),
      },
    },
    {
      data: { values: drawing.nodes },
      mark: { type: 'circle', opacity: 1, stroke: 'white', strokeWidth: 0.8 },
      encoding: { x: depthAxis, y: rowAxis, ...roleEncoding(roles) },
    },
  ];
  if (drawing.nodes.length <= MAX_LABELLED_GRAPH_NODES) {
    layers.push({
      data: { values: drawing.nodes },
      // Right of the node: a column of 30 viewers leaves ~15 px per node, too little for labels above.
      mark: { type: 'text', align: 'left', baseline: 'middle', dx: 8, fontSize: 10, color: '#333' },
      encoding: {
        x: depthAxis,
        y: rowAxis,
        text: { field: 'id' },
      },
    });
  }
  return {
    config: CHART_CONFIG,
    width: CHART_WIDTH_PX,
    height: Math.max(CHART_HEIGHT_PX, Math.min(900, 16 * Math.max(...countPerDepth(drawing)))),
    title: {
      text: `Overlay at the end of the run — ${drawing.mode} mode`,
      subtitle:
        'Graph scenario (no geography): nodes in columns by hops from the broadcaster, lines from parent to child.',
    },
    layer: layers,
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}

function countPerDepth(drawing: OverlayDrawing): number[] {
  const counts = new Map<number, number>();
  for (const n of drawing.nodes) counts.set(n.depth, (counts.get(n.depth) ?? 0) + 1);
  return [...counts.values()];
}
