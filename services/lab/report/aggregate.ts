// Turns read results into the small tables the report's charts draw: CDF quantiles, per-viewer
// median stretch, per-seq delay, offload shares, and the overlay tree with positions. Everything
// here is downsampled so the report stays a few MB however many chunk rows the run wrote.

import { build as buildHistogram } from 'hdr-histogram-js';
import type { DeliveryPath, Mode } from '../../core/types.js';
import {
  CDF_POINTS,
  DELAY_HISTOGRAM_SIGNIFICANT_DIGITS,
  EPOCH_CLOCK_THRESHOLD_US,
  MAX_EVENT_RULES,
  MAX_OVERLAY_VIEWERS,
  MAX_STRETCH_VIEWERS,
  TIME_SERIES_MAX_POINTS,
} from './constants.js';
import { PATH_CODE, PATH_OF_CODE, type ChunkTable } from '../../results/chunks.js';
import type { ModeResults } from '../../results/read.js';

export const BOUND_SERIES = 'bound (physical)';
const PATH_LABEL: Record<DeliveryPath, string> = { cdn: 'CDN path', peer: 'peer path' };

/** Legend name of one (mode, path) series, e.g. "p2p mode · peer path". */
export function seriesName(mode: Mode, path: DeliveryPath): string {
  return `${mode} mode · ${PATH_LABEL[path]}`;
}

function rowsOnPath(table: ChunkTable, pathCode: number): number {
  let n = 0;
  for (let i = 0; i < table.rowCount; i++) if (table.path[i] === pathCode) n++;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Chunk-delay CDF

export interface CdfPoint {
  series: string;
  delayMs: number;
  /** share of this series' chunks delivered within delayMs */
  fraction: number;
}

function newDelayHistogram() {
  return buildHistogram({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: DELAY_HISTOGRAM_SIGNIFICANT_DIGITS,
    autoResize: true,
  });
}

/** Quantiles of chunk delay per (mode, path), plus the bound of the same chunks for reference. */
export function delayCdf(modes: readonly ModeResults[]): CdfPoint[] {
  const points: CdfPoint[] = [];
  const emit = (series: string, values: Float32Array, select: (i: number) => boolean) => {
    const histogram = newDelayHistogram();
    let n = 0;
    for (let i = 0; i < values.length; i++) {
      if (!select(i)) continue;
      // µs integers keep 3 significant digits for sub-ms delays; a negative delay (clock skew)
      // cannot be recorded and is the same as "arrived at once" for a CDF.
      histogram.recordValue(Math.max(0, Math.round(values[i]! * 1000)));
      n++;
    }
    if (n === 0) return;
    const steps = Math.min(CDF_POINTS, n);
    // The curve starts at 0 % at the fastest chunk, so a step plot does not float above the axis.
    points.push({ series, delayMs: histogram.getValueAtPercentile(0) / 1000, fraction: 0 });
    for (let k = 1; k <= steps; k++) {
      const fraction = k / steps;
      points.push({ series, delayMs: histogram.getValueAtPercentile(fraction * 100) / 1000, fraction });
    }
    histogram.destroy();
  };
  for (const m of modes) {
    for (const path of ['cdn', 'peer'] as const) {
      const code = PATH_CODE[path];
      const table = m.chunks;
      emit(seriesName(m.mode, path), table.delayMs.subarray(0, table.rowCount), (i) => table.path[i] === code);
    }
  }
  const reference = modes[0];
  if (reference !== undefined && reference.chunks.rowCount > 0) {
    emit(BOUND_SERIES, reference.chunks.boundMs.subarray(0, reference.chunks.rowCount), () => true);
  }
  return points;
}

// ---------------------------------------------------------------------------------------------
// Grouped medians without an object per row

/**
 * Sorts `values` by group (a counting sort on the group index) and returns, for each group, the
 * requested quantiles of its values. Groups with no values get undefined.
 */
function groupQuantiles(
  groupOf: Int32Array,
  values: Float32Array,
  groupCount: number,
  quantiles: readonly number[],
): (number[] | undefined)[] {
  const counts = new Int32Array(groupCount + 1);
  for (let i = 0; i < groupOf.length; i++) if (groupOf[i]! >= 0) counts[groupOf[i]! + 1]!++;
  for (let g = 0; g < groupCount; g++) counts[g + 1]! += counts[g]!;
  const offsets = counts.slice();
  const sorted = new Float32Array(counts[groupCount]!);
  for (let i = 0; i < groupOf.length; i++) {
    const g = groupOf[i]!;
    if (g >= 0) sorted[offsets[g]!++] = values[i]!;
  }
  const out: (number[] | undefined)[] = [];
  for (let g = 0; g < groupCount; g++) {
    const segment = sorted.subarray(counts[g]!, counts[g + 1]!);
    if (segment.length === 0) {
      out.push(undefined);
      continue;
    }
    segment.sort();
    out.push(
      quantiles.map((q) => segment[Math.min(segment.length - 1, Math.max(0, Math.ceil(q * segment.length) - 1))]!),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Stretch per viewer

/** Median stretch (delay / bound over the viewer's chunks) per viewer id. */
export function viewerMedianStretch(m: ModeResults): Map<string, number> {
  const t = m.chunks;
  const stretch = new Float32Array(t.rowCount);
  for (let i = 0; i < t.rowCount; i++) stretch[i] = t.delayMs[i]! / t.boundMs[i]!;
  const medians = groupQuantiles(t.viewerIndex.subarray(0, t.rowCount), stretch, t.viewers.length, [0.5]);
  const out = new Map<string, number>();
  medians.forEach((q, index) => {
    if (q !== undefined) out.set(t.viewers[index]!, q[0]!);
  });
  return out;
}

export interface StretchPair {
  viewer: string;
  region: string;
  cdnStretch: number;
  p2pStretch: number;
}
export interface StretchRank {
  series: string;
  /** viewer's rank among this mode's viewers, 0 = lowest stretch, 1 = highest */
  rank: number;
  stretch: number;
  viewer: string;
}

export type StretchData =
  | { kind: 'pairs'; pairs: StretchPair[]; viewersInBoth: number }
  | { kind: 'ranks'; ranks: StretchRank[] };

/** Both modes: one point per viewer (cdn vs p2p median stretch). One mode: sorted per viewer. */
export function stretchPerViewer(modes: readonly ModeResults[]): StretchData {
  const cdn = modes.find((m) => m.mode === 'cdn');
  const p2p = modes.find((m) => m.mode === 'p2p');
  if (cdn !== undefined && p2p !== undefined) {
    const a = viewerMedianStretch(cdn);
    const b = viewerMedianStretch(p2p);
    const regionOf = new Map(p2p.plan.viewers.map((v) => [v.id, v.region]));
    const both = [...a.keys()].filter((id) => b.has(id)).sort();
    const pairs = stride(both, MAX_STRETCH_VIEWERS).map((viewer) => ({
      viewer,
      region: regionOf.get(viewer) ?? '',
      cdnStretch: a.get(viewer)!,
      p2pStretch: b.get(viewer)!,
    }));
    return { kind: 'pairs', pairs, viewersInBoth: both.length };
  }
  const ranks: StretchRank[] = [];
  for (const m of modes) {
    const sorted = [...viewerMedianStretch(m).entries()].sort((x, y) => x[1] - y[1]);
    const kept = stride(sorted, MAX_STRETCH_VIEWERS);
    kept.forEach(([viewer, stretch], i) => {
      ranks.push({ series: `${m.mode} mode`, rank: kept.length > 1 ? i / (kept.length - 1) : 0, stretch, viewer });
    });
  }
  return { kind: 'ranks', ranks };
}

/** Every k-th element so at most `max` remain, first and last kept: preserves the spread. */
function stride<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const out: T[] = [];
  const step = (items.length - 1) / (max - 1);
  for (let k = 0; k < max; k++) out.push(items[Math.round(k * step)]!);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Delay over time

export interface TimePoint {
  mode: Mode;
  series: string;
  /** seconds since this mode's first chunk was produced */
  timeS: number;
  statistic: 'median' | 'p95';
  delayMs: number;
}

export interface ChurnMark {
  mode: Mode;
  kind: 'join' | 'leave' | 'kill';
  timeS: number;
  viewer: string;
}

export interface TimeSeries {
  points: TimePoint[];
  churn: ChurnMark[];
  /** consecutive chunk seqs merged into one point (1 = one point per chunk) */
  seqsPerPoint: number;
  /** churn events in the run, of which `churn` holds a stride */
  churnTotal: number;
}

/** Median and p95 chunk delay per chunk seq (or group of seqs) and path, with churn marks. */
export function delayOverTime(modes: readonly ModeResults[]): TimeSeries {
  const points: TimePoint[] = [];
  const churn: ChurnMark[] = [];
  let seqsPerPoint = 1;
  let churnTotal = 0;
  for (const m of modes) {
    const t = m.chunks;
    if (t.rowCount === 0) continue;
    let minSeq = Infinity;
    let maxSeq = -Infinity;
    let startUs = Infinity;
    for (let i = 0; i < t.rowCount; i++) {
      minSeq = Math.min(minSeq, t.seq[i]!);
      maxSeq = Math.max(maxSeq, t.seq[i]!);
      startUs = Math.min(startUs, t.producedAtUs[i]!);
    }
    const seqsPerBucket = Math.max(1, Math.ceil((maxSeq - minSeq + 1) / TIME_SERIES_MAX_POINTS));
    seqsPerPoint = Math.max(seqsPerPoint, seqsPerBucket);
    const buckets = Math.floor((maxSeq - minSeq) / seqsPerBucket) + 1;
    const group = new Int32Array(t.rowCount);
    const bucketStartUs = new Float64Array(buckets).fill(Infinity);
    for (let i = 0; i < t.rowCount; i++) {
      const bucket = Math.floor((t.seq[i]! - minSeq) / seqsPerBucket);
      group[i] = bucket * 2 + t.path[i]!;
      bucketStartUs[bucket] = Math.min(bucketStartUs[bucket]!, t.producedAtUs[i]!);
    }
    const q = groupQuantiles(group, t.delayMs.subarray(0, t.rowCount), buckets * 2, [0.5, 0.95]);
    for (let bucket = 0; bucket < buckets; bucket++) {
      for (const code of [0, 1]) {
        const stats = q[bucket * 2 + code];
        if (stats === undefined) continue;
        const timeS = (bucketStartUs[bucket]! - startUs) / 1e6;
        const series = seriesName(m.mode, PATH_OF_CODE[code]!);
        points.push({ mode: m.mode, series, timeS, statistic: 'median', delayMs: stats[0]! });
        points.push({ mode: m.mode, series, timeS, statistic: 'p95', delayMs: stats[1]! });
      }
    }
    const marks: ChurnMark[] = [];
    for (const e of m.events) {
      if (e.kind !== 'join' && e.kind !== 'leave' && e.kind !== 'kill') continue;
      const timeS = runTimeS(e.atUs, startUs);
      // Everyone present at the start "joins" at t ≤ 0: a rule there marks nothing.
      if (e.kind === 'join' && timeS <= 0) continue;
      marks.push({ mode: m.mode, kind: e.kind, timeS, viewer: e.viewer });
    }
    churnTotal += marks.length;
    churn.push(...stride(marks, MAX_EVENT_RULES));
  }
  return { points, churn, seqsPerPoint, churnTotal };
}

/** events.csv atUs on the broadcaster clock, or already relative to the run start: see constants. */
export function runTimeS(atUs: number, runStartUs: number): number {
  return atUs >= EPOCH_CLOCK_THRESHOLD_US ? (atUs - runStartUs) / 1e6 : atUs / 1e6;
}

// ---------------------------------------------------------------------------------------------
// Offload

export interface OffloadBar {
  mode: Mode;
  /** "all viewers" or a region */
  group: string;
  label: string;
  offload: number;
}

/**
 * Offload per mode from summary.json, and per region from chunks.csv (share of chunk rows on the
 * peer path: every chunk has the same size, so rows are proportional to bytes).
 */
export function offloadBars(modes: readonly ModeResults[]): OffloadBar[] {
  const bars: OffloadBar[] = [];
  for (const m of modes) {
    bars.push({
      mode: m.mode,
      group: 'all viewers',
      label: `${m.mode} mode — all viewers`,
      offload: m.summary.offload,
    });
    if (m.summary.offload === 0 && rowsOnPath(m.chunks, PATH_CODE.peer) === 0) continue;
    const regionOf = new Map(m.plan.viewers.map((v) => [v.id, v.region]));
    const perRegion = new Map<string, { peer: number; all: number }>();
    const regionOfIndex = m.chunks.viewers.map((id) => regionOf.get(id) ?? '(unknown)');
    for (let i = 0; i < m.chunks.rowCount; i++) {
      const region = regionOfIndex[m.chunks.viewerIndex[i]!]!;
      const tally = perRegion.get(region) ?? { peer: 0, all: 0 };
      tally.all++;
      if (m.chunks.path[i] === PATH_CODE.peer) tally.peer++;
      perRegion.set(region, tally);
    }
    for (const [region, tally] of [...perRegion.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
      bars.push({ mode: m.mode, group: region, label: `${m.mode} mode — ${region}`, offload: tally.peer / tally.all });
    }
  }
  return bars;
}

// ---------------------------------------------------------------------------------------------
// Overlay tree

export type NodeRole = 'broadcaster' | 'origin' | 'edge' | 'viewer';
export type LinkKind =
  | 'broadcaster → origin'
  | 'CDN tree (origin → edge)'
  | 'CDN path (→ viewer)'
  | 'peer path (viewer → viewer)';

export interface OverlayNode {
  id: string;
  role: NodeRole;
  lat?: number;
  lon?: number;
  /** hops from the broadcaster in the final overlay (graph drawing) */
  depth: number;
  /** position within its depth layer, 0..1 (graph drawing) */
  y: number;
}

export interface OverlayLink {
  from: string;
  to: string;
  kind: LinkKind;
  fromLat?: number;
  fromLon?: number;
  toLat?: number;
  toLon?: number;
  fromDepth: number;
  fromY: number;
  toDepth: number;
  toY: number;
}

export interface OverlayDrawing {
  mode: Mode;
  kind: 'geo' | 'graph';
  nodes: OverlayNode[];
  links: OverlayLink[];
  /** viewers in overlay.json (before thinning) */
  viewerCount: number;
  /** viewers drawn */
  viewersDrawn: number;
  /** nodes that have no lat/lon in a geo plan (not drawn on the map) */
  unplaced: number;
  /** overlay parents that name no node of the plan or overlay */
  unknownParents: string[];
}

/** The overlay at the end of the run: broadcaster → origin → edges → viewers, laid out. */
export function overlayDrawing(m: ModeResults): OverlayDrawing {
  const plan = m.plan;
  const nodes = new Map<string, OverlayNode>();
  const add = (id: string, role: NodeRole, place: { lat?: number | null; lon?: number | null }) => {
    const node: OverlayNode = { id, role, depth: 0, y: 0 };
    if (place.lat != null && place.lon != null) {
      node.lat = place.lat;
      node.lon = place.lon;
    }
    nodes.set(id, node);
  };
  add(plan.broadcaster.id, 'broadcaster', plan.broadcaster);
  add(plan.origin.id, 'origin', plan.origin);
  for (const e of plan.edges) add(e.id, 'edge', e);
  const viewerPlaces = new Map(plan.viewers.map((v) => [v.id, v]));
  const overlayViewers = stride(m.overlay.parents, MAX_OVERLAY_VIEWERS);
  for (const p of overlayViewers) add(p.viewer, 'viewer', viewerPlaces.get(p.viewer) ?? {});

  const parentLinks: { from: string; to: string; kind: LinkKind }[] = [
    { from: plan.broadcaster.id, to: plan.origin.id, kind: 'broadcaster → origin' },
    ...plan.edges.map((e) => ({ from: e.parentId, to: e.id, kind: 'CDN tree (origin → edge)' as LinkKind })),
  ];
  const unknownParents: string[] = [];
  for (const p of overlayViewers) {
    const parentKnown = nodes.has(p.parent) || viewerPlaces.has(p.parent);
    if (!parentKnown) {
      unknownParents.push(p.parent);
      continue;
    }
    if (!nodes.has(p.parent)) add(p.parent, 'viewer', viewerPlaces.get(p.parent) ?? {});
    parentLinks.push({
      from: p.parent,
      to: p.viewer,
      kind: nodes.get(p.parent)!.role === 'viewer' ? 'peer path (viewer → viewer)' : 'CDN path (→ viewer)',
    });
  }
  layOutLayers(nodes, parentLinks, plan.broadcaster.id);

  const links: OverlayLink[] = [];
  for (const l of parentLinks) {
    const from = nodes.get(l.from);
    const to = nodes.get(l.to);
    if (from === undefined || to === undefined) continue;
    links.push({
      ...l,
      fromLat: from.lat,
      fromLon: from.lon,
      toLat: to.lat,
      toLon: to.lon,
      fromDepth: from.depth,
      fromY: from.y,
      toDepth: to.depth,
      toY: to.y,
    });
  }
  const all = [...nodes.values()];
  return {
    mode: m.mode,
    kind: plan.kind,
    nodes: all,
    links,
    viewerCount: m.overlay.parents.length,
    viewersDrawn: all.filter((n) => n.role === 'viewer').length,
    unplaced: plan.kind === 'geo' ? all.filter((n) => n.lat === undefined).length : 0,
    unknownParents,
  };
}

/**
 * Layered layout for graph runs: depth = hops from the broadcaster along parent links; within a
 * layer, nodes are ordered by their parent's position so subtrees stay together (few crossings).
 * Nodes not reachable (a parent cycle in a broken overlay) go to one extra layer at the end.
 */
function layOutLayers(
  nodes: Map<string, OverlayNode>,
  links: readonly { from: string; to: string }[],
  rootId: string,
): void {
  const children = new Map<string, string[]>();
  for (const l of links) {
    const list = children.get(l.from) ?? [];
    list.push(l.to);
    children.set(l.from, list);
  }
  const layers: string[][] = [[rootId]];
  const placed = new Set([rootId]);
  for (let depth = 0; layers[depth]!.length > 0; depth++) {
    const next: string[] = [];
    for (const id of layers[depth]!) {
      for (const child of (children.get(id) ?? []).sort()) {
        if (placed.has(child)) continue;
        placed.add(child);
        next.push(child);
      }
    }
    layers.push(next);
  }
  layers.pop();
  const orphans = [...nodes.keys()].filter((id) => !placed.has(id)).sort();
  if (orphans.length > 0) layers.push(orphans);
  layers.forEach((layer, depth) => {
    layer.forEach((id, i) => {
      const node = nodes.get(id);
      if (node === undefined) return;
      node.depth = depth;
      // Centred slots: a layer of two sits at ¼ and ¾, not on the frame.
      node.y = (i + 0.5) / layer.length;
    });
  });
}
