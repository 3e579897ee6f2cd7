// The livepath overview dashboard: CDN path vs peer path chunk delay against the viewers' bound,
// stretch, offload, and playout health, i.e. the question livepath answers, at a glance.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';

import { DELAY_QUANTILES, OVERVIEW_UID } from '../constants.js';
import { numberPanels, quantileQueries, rateExpr, statPanel, timeseriesPanel } from '../panels.js';
import { livepathDashboard } from './common.js';

/** Share of delivered chunk bytes that came from peers (DESIGN.md "offload"). */
export const OFFLOAD_EXPR =
  `${rateExpr('livepath_delivered_bytes_total', [], '{path="peer"}')}` +
  ` / ${rateExpr('livepath_delivered_bytes_total')}`;

/** Delay percentiles per path, with the bound's median as the line neither path can beat. */
export function chunkDelayPanel(): ReturnType<typeof timeseriesPanel> {
  return timeseriesPanel({
    title: 'Chunk delay by path',
    description:
      'Time from a chunk produced at the broadcaster to its last byte at the viewer, CDN path vs ' +
      "peer path, against the median viewer's bound (shortest propagation + one chunk at the bottleneck).",
    unit: 's',
    queries: [
      ...quantileQueries('livepath_chunk_delay_seconds', DELAY_QUANTILES, ['path']),
      ...quantileQueries('livepath_chunk_bound_seconds', [0.5]).map((q) => ({ ...q, legend: 'bound p50' })),
    ],
  });
}

/** Stretch and excess: how far from physically optimal each path is. */
export function stretchPanels(): ReturnType<typeof timeseriesPanel>[] {
  return [
    timeseriesPanel({
      title: 'Stretch by path',
      description: "Chunk delay divided by the viewer's bound: 1 is the physical optimum.",
      unit: 'none',
      queries: quantileQueries('livepath_chunk_stretch_ratio', DELAY_QUANTILES, ['path']),
    }),
    timeseriesPanel({
      title: 'Excess delay by path',
      description: "Chunk delay minus the viewer's bound.",
      unit: 's',
      queries: quantileQueries('livepath_chunk_excess_seconds', DELAY_QUANTILES, ['path']),
    }),
  ];
}

/** Offload and who delivers the bytes. */
export function offloadPanels(): (ReturnType<typeof statPanel> | ReturnType<typeof timeseriesPanel>)[] {
  return [
    statPanel({
      title: 'Offload',
      description: 'Share of chunk bytes delivered to viewers by peers rather than by edges or the origin.',
      unit: 'percentunit',
      queries: [{ expr: OFFLOAD_EXPR, legend: 'offload' }],
    }),
    statPanel({
      title: 'Active viewers',
      description: 'Viewers currently watching.',
      unit: 'short',
      queries: [{ expr: 'sum(livepath_viewers_active)', legend: 'viewers' }],
    }),
    timeseriesPanel({
      title: 'Delivered bytes by path',
      description: 'Rate of complete-chunk bytes delivered to viewers, by delivery path.',
      unit: 'Bps',
      queries: [{ expr: rateExpr('livepath_delivered_bytes_total', ['path']), legend: '{{path}}' }],
    }),
  ];
}

/** Playout health: stalls, lost chunks, late chunks that fell back to the CDN. */
export function playoutHealthPanels(): ReturnType<typeof timeseriesPanel>[] {
  return [
    timeseriesPanel({
      title: 'Offload over time',
      description: 'Share of chunk bytes delivered by peers.',
      unit: 'percentunit',
      queries: [{ expr: OFFLOAD_EXPR, legend: 'offload' }],
    }),
    timeseriesPanel({
      title: 'Stalls, lost and late chunks',
      description:
        'Per second: playout stalls, chunks never received, and chunks that missed their deadline on ' +
        'the peer path and were fetched from the CDN instead.',
      unit: 'cps',
      queries: [
        { expr: rateExpr('livepath_stalls_total'), legend: 'stalls' },
        { expr: rateExpr('livepath_chunks_lost_total'), legend: 'lost' },
        { expr: rateExpr('livepath_chunks_late_total'), legend: 'late (CDN fallback)' },
      ],
    }),
    timeseriesPanel({
      title: 'Chunks received by path',
      description: 'Complete chunks received by viewers per second, by delivery path.',
      unit: 'cps',
      queries: [{ expr: rateExpr('livepath_chunks_received_total', ['path']), legend: '{{path}}' }],
    }),
  ];
}

export function overviewDashboard(): dashboard.Dashboard {
  const builder = livepathDashboard(
    OVERVIEW_UID,
    'livepath / overview',
    'Chunk delay of a live stream on the CDN path vs the peer path, compared with each viewer’s physical bound.',
  );
  builder.withRow(new RowBuilder('Delay vs bound'));
  builder.withPanel(chunkDelayPanel());
  for (const p of stretchPanels()) builder.withPanel(p);
  builder.withRow(new RowBuilder('Offload and viewers'));
  for (const p of offloadPanels()) builder.withPanel(p);
  builder.withRow(new RowBuilder('Playout health'));
  for (const p of playoutHealthPanels()) builder.withPanel(p);
  return numberPanels(builder.build());
}
