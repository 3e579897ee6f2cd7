// The livepath drilldown dashboard: where delay comes from — per region, relay queues and fan-out,
// overlay churn (re-parents, joins, tracker), trust (rejected fragments, bans), and whether the link emulation itself is accurate.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';

import { DELAY_QUANTILES, DRILLDOWN_UID, EMULATION_ERROR_QUANTILES } from '../constants.js';
import { numberPanels, quantileQueries, rateExpr, timeseriesPanel } from '../panels.js';
import { livepathDashboard } from './common.js';

type Panel = ReturnType<typeof timeseriesPanel>;

/** Delay, stretch and bound per region: where viewers sit far from every edge the peer path can win. */
export function regionPanels(): Panel[] {
  return [
    timeseriesPanel({
      title: 'Chunk delay p95 by region and path',
      description: 'Tail chunk delay per viewer region, CDN path vs peer path.',
      unit: 's',
      queries: quantileQueries('livepath_chunk_delay_seconds', [0.95], ['region', 'path']),
    }),
    timeseriesPanel({
      title: 'Stretch p50 by region and path',
      description: 'Median delay / bound per viewer region (1 = physical optimum).',
      unit: 'none',
      queries: quantileQueries('livepath_chunk_stretch_ratio', [0.5], ['region', 'path']),
    }),
    timeseriesPanel({
      title: 'Bound p50 by region',
      description: "Median viewer's bound per region: the delay no path can beat.",
      unit: 's',
      queries: quantileQueries('livepath_chunk_bound_seconds', [0.5], ['region']),
    }),
    timeseriesPanel({
      title: 'Active viewers by region',
      description: 'Viewers currently watching, per region.',
      unit: 'short',
      queries: [{ expr: 'sum by (region) (livepath_viewers_active)', legend: '{{region}}' }],
    }),
  ];
}

/** Relay fan-out: queued fragments and children per process, and how fast relays send. */
export function relayPanels(): Panel[] {
  return [
    timeseriesPanel({
      title: 'Relay queue depth',
      description:
        'Fragments queued to children, per process: a growing queue means an uplink shared by too many children.',
      unit: 'short',
      span: 8,
      queries: [{ expr: 'max by (role, instance) (livepath_relay_queue_fragments)', legend: '{{role}} {{instance}}' }],
    }),
    timeseriesPanel({
      title: 'Relay children',
      description: 'Children subscribed to the relays of each role.',
      unit: 'short',
      span: 8,
      queries: [{ expr: 'sum by (role) (livepath_relay_children)', legend: '{{role}}' }],
    }),
    timeseriesPanel({
      title: 'Relay send rate',
      description: 'Chunk bytes sent to children per second, by role.',
      unit: 'Bps',
      span: 8,
      queries: [{ expr: rateExpr('livepath_relay_sent_bytes_total', ['role']), legend: '{{role}}' }],
    }),
  ];
}

/** Overlay churn: re-parents, join time, tracker state and how well it measures proximity. */
export function overlayPanels(): Panel[] {
  return [
    timeseriesPanel({
      title: 'Re-parents by reason',
      description: 'Parent changes of peers per second: join, parent lost (churn), or a better parent found.',
      unit: 'cps',
      queries: [{ expr: rateExpr('livepath_reparents_total', ['reason']), legend: '{{reason}}' }],
    }),
    timeseriesPanel({
      title: 'Join time',
      description: "Time from a viewer's join to its first complete chunk.",
      unit: 's',
      queries: quantileQueries('livepath_join_seconds', DELAY_QUANTILES),
    }),
    timeseriesPanel({
      title: 'Tracker peers and assignments',
      description: 'Peers admitted by the tracker, and parent assignments it sends per second by reason.',
      unit: 'short',
      queries: [
        { expr: 'sum(livepath_tracker_peers)', legend: 'peers' },
        { expr: rateExpr('livepath_tracker_assignments_total', ['reason']), legend: 'assignments/s {{reason}}' },
      ],
    }),
    timeseriesPanel({
      title: 'Proximity RTT error',
      description: '|measured − true| / true RTT of proximity estimates the tracker assigns parents by.',
      unit: 'percentunit',
      queries: quantileQueries('livepath_proximity_rtt_error_ratio', DELAY_QUANTILES),
    }),
  ];
}

/** Emulation fidelity: a run's delays are only as good as the emulator's timing. */
export function emulationPanels(): Panel[] {
  return [
    timeseriesPanel({
      title: 'Emulation error per hop',
      description:
        "How much later than the model a fragment's bytes reached the receiving process on one emulated hop (0 when " +
        'in time); a tail of tens of ms means the host is overloaded and the measured delays include that much error.',
      unit: 's',
      span: 24,
      queries: quantileQueries('livepath_emulation_error_seconds', EMULATION_ERROR_QUANTILES, ['role']),
    }),
  ];
}

/** Trust: fragments refused and why, what verifying costs, and what limits and bans cut. */
export function trustPanels(): Panel[] {
  return [
    timeseriesPanel({
      title: 'Fragments rejected',
      description:
        "Fragments refused before being stored, forwarded or played, by reason: signature (not the origin's), " +
        'unsigned, replay (older than any relay keeps), malformed. Any rate above 0 means a peer is tampering.',
      unit: 'short',
      span: 8,
      queries: [
        { expr: rateExpr('livepath_fragments_rejected_total', ['reason', 'role']), legend: '{{role}} {{reason}}' },
      ],
    }),
    timeseriesPanel({
      title: 'Verification CPU',
      description:
        'Share of a CPU spent verifying fragment signatures, per role, and verifications per second (one per ' +
        'distinct fragment per process).',
      unit: 'short',
      span: 8,
      queries: [
        { expr: rateExpr('livepath_fragment_verify_cpu_seconds_total', ['role']), legend: 'CPU {{role}}' },
        { expr: rateExpr('livepath_fragment_verifications_total', ['role']), legend: 'verifications/s {{role}}' },
      ],
    }),
    timeseriesPanel({
      title: 'Limited and banned',
      description: 'Requests refused or peers cut to keep a process bounded or honest, by reason.',
      unit: 'short',
      span: 8,
      queries: [{ expr: rateExpr('livepath_limited_total', ['reason', 'role']), legend: '{{role}} {{reason}}' }],
    }),
  ];
}

export function drilldownDashboard(): dashboard.Dashboard {
  const builder = livepathDashboard(
    DRILLDOWN_UID,
    'livepath / drilldown',
    'Where chunk delay comes from: regions, relay queues, overlay churn, and emulation fidelity.',
  );
  builder.withRow(new RowBuilder('Per region'));
  for (const p of regionPanels()) builder.withPanel(p);
  builder.withRow(new RowBuilder('Relays'));
  for (const p of relayPanels()) builder.withPanel(p);
  builder.withRow(new RowBuilder('Overlay'));
  for (const p of overlayPanels()) builder.withPanel(p);
  builder.withRow(new RowBuilder('Trust'));
  for (const p of trustPanels()) builder.withPanel(p);
  builder.withRow(new RowBuilder('Emulation fidelity'));
  for (const p of emulationPanels()) builder.withPanel(p);
  return numberPanels(builder.build());
}
