// The report's aggregations: CDF quantiles, per-viewer median stretch, per-seq delay with
// bucketing, offload shares and the overlay layout, checked against values computed by hand.

import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  BOUND_SERIES,
  delayCdf,
  delayOverTime,
  offloadBars,
  overlayDrawing,
  runTimeS,
  seriesName,
  stretchPerViewer,
  viewerMedianStretch,
} from '../../services/lab/report/aggregate.js';
import { TIME_SERIES_MAX_POINTS } from '../../services/lab/report/constants.js';
import type { ChunkTable } from '../../services/results/chunks.js';
import type { ModeResults } from '../../services/results/read.js';
import { readResults } from '../../services/results/read.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'results');

interface FakeRow {
  viewer: string;
  seq: number;
  delayMs: number;
  boundMs: number;
  path: 'cdn' | 'peer';
}

function table(rows: FakeRow[]): ChunkTable {
  const viewers = [...new Set(rows.map((r) => r.viewer))];
  return {
    rowCount: rows.length,
    viewers,
    parents: ['edge-a'],
    viewerIndex: Int32Array.from(rows.map((r) => viewers.indexOf(r.viewer))),
    seq: Float64Array.from(rows.map((r) => r.seq)),
    producedAtUs: Float64Array.from(rows.map((r) => 1_700_000_000_000_000 + r.seq * 500_000)),
    receivedAtUs: Float64Array.from(rows.map((r) => 1_700_000_000_000_000 + r.seq * 500_000 + r.delayMs * 1000)),
    delayMs: Float32Array.from(rows.map((r) => r.delayMs)),
    boundMs: Float32Array.from(rows.map((r) => r.boundMs)),
    path: Uint8Array.from(rows.map((r) => (r.path === 'peer' ? 1 : 0))),
    hops: Uint16Array.from(rows.map(() => 2)),
    parentIndex: new Int32Array(rows.length),
  };
}

function mode(name: 'cdn' | 'p2p', rows: FakeRow[], extra: Partial<ModeResults> = {}): ModeResults {
  const dist = { p50: null, p95: null, p99: null, max: null, count: 0 };
  const viewers = [...new Set(rows.map((r) => r.viewer))];
  return {
    mode: name,
    dir: '/nowhere',
    summary: {
      scenario: 's',
      seed: 1,
      mode: name,
      viewers: viewers.length,
      chunks: 10,
      lostChunks: 0,
      delayMs: { cdn: dist, peer: dist, all: dist },
      boundMs: dist,
      stretch: { cdn: dist, peer: dist, all: dist },
      excessMs: dist,
      offload: rows.length ? rows.filter((r) => r.path === 'peer').length / rows.length : 0,
      emulationErrorMs: dist,
      joinTimeMs: dist,
      stalls: 0,
      reparents: 0,
    },
    plan: {
      scenario: 's',
      kind: 'graph',
      stream: { bitrateBps: 1e6, chunkDurationUs: 500_000, chunkBytes: 62_500 },
      broadcaster: { id: 'b' },
      origin: { id: 'o' },
      edges: [{ id: 'edge-a', parentId: 'o', region: 'r' }],
      viewers: viewers.map((id, i) => ({
        id,
        region: i % 2 ? 'north' : 'south',
        edgeId: 'edge-a',
        boundMs: 10,
        joinAtS: 0,
      })),
    },
    chunks: table(rows),
    events: [],
    overlay: { parents: [], changes: [] },
    ...extra,
  };
}

describe('delayCdf', () => {
  it('gives one non-decreasing curve per path present, from 0 to 1, ending at the largest delay', () => {
    const rows: FakeRow[] = [];
    for (let i = 0; i < 1000; i++)
      rows.push({ viewer: `v${i % 10}`, seq: i, delayMs: 10 + i * 0.1, boundMs: 8, path: i % 4 ? 'cdn' : 'peer' });
    const points = delayCdf([mode('p2p', rows)]);
    const series = [...new Set(points.map((p) => p.series))];
    assert.deepEqual(series.sort(), [BOUND_SERIES, seriesName('p2p', 'cdn'), seriesName('p2p', 'peer')].sort());
    for (const s of series) {
      const curve = points.filter((p) => p.series === s);
      assert.ok(curve.length <= 501, `${s}: ${curve.length} points`);
      assert.equal(curve[0]!.fraction, 0);
      assert.equal(curve.at(-1)!.fraction, 1);
      for (let i = 1; i < curve.length; i++) {
        assert.ok(curve[i]!.delayMs >= curve[i - 1]!.delayMs);
        assert.ok(curve[i]!.fraction > curve[i - 1]!.fraction);
      }
    }
    const peer = points.filter((p) => p.series === seriesName('p2p', 'peer'));
    // Largest peer delay is row 996: 10 + 99.6 ms; the histogram keeps 3 significant digits.
    assert.ok(Math.abs(peer.at(-1)!.delayMs - 109.6) < 0.2, String(peer.at(-1)!.delayMs));
    assert.ok(Math.abs(peer[0]!.delayMs - 10) < 0.02);
  });

  it('draws no peer curve when the peer path has no rows', () => {
    const points = delayCdf([mode('cdn', [{ viewer: 'a', seq: 0, delayMs: 5, boundMs: 4, path: 'cdn' }])]);
    assert.ok(!points.some((p) => p.series.includes('peer path')));
  });
});

describe('stretch per viewer', () => {
  it('is the median of delay ÷ bound over the viewer’s chunks', () => {
    const rows: FakeRow[] = [
      { viewer: 'a', seq: 0, delayMs: 10, boundMs: 10, path: 'cdn' },
      { viewer: 'a', seq: 1, delayMs: 30, boundMs: 10, path: 'cdn' },
      { viewer: 'a', seq: 2, delayMs: 20, boundMs: 10, path: 'cdn' },
      { viewer: 'b', seq: 0, delayMs: 50, boundMs: 20, path: 'peer' },
    ];
    const medians = viewerMedianStretch(mode('p2p', rows));
    assert.equal(medians.get('a'), 2);
    assert.equal(medians.get('b'), 2.5);
  });

  it('pairs viewers present in both modes, and ranks them when only one mode ran', () => {
    const cdn = mode('cdn', [
      { viewer: 'a', seq: 0, delayMs: 20, boundMs: 10, path: 'cdn' },
      { viewer: 'b', seq: 0, delayMs: 30, boundMs: 10, path: 'cdn' },
    ]);
    const p2p = mode('p2p', [{ viewer: 'a', seq: 0, delayMs: 12, boundMs: 10, path: 'peer' }]);
    const both = stretchPerViewer([cdn, p2p]);
    assert.equal(both.kind, 'pairs');
    if (both.kind === 'pairs') {
      assert.deepEqual(
        both.pairs.map((p) => [p.viewer, p.cdnStretch, Math.round(p.p2pStretch * 100) / 100]),
        [['a', 2, 1.2]],
      );
    }
    const one = stretchPerViewer([cdn]);
    assert.equal(one.kind, 'ranks');
    if (one.kind === 'ranks')
      assert.deepEqual(
        one.ranks.map((r) => [r.viewer, r.rank]),
        [
          ['a', 0],
          ['b', 1],
        ],
      );
  });
});

describe('delayOverTime', () => {
  it('gives the median per chunk seq and path', () => {
    const rows: FakeRow[] = [
      { viewer: 'a', seq: 0, delayMs: 10, boundMs: 5, path: 'cdn' },
      { viewer: 'b', seq: 0, delayMs: 30, boundMs: 5, path: 'cdn' },
      { viewer: 'c', seq: 0, delayMs: 20, boundMs: 5, path: 'cdn' },
      { viewer: 'a', seq: 1, delayMs: 40, boundMs: 5, path: 'peer' },
    ];
    const series = delayOverTime([mode('p2p', rows)]);
    const medians = series.points.filter((p) => p.statistic === 'median').map((p) => [p.series, p.timeS, p.delayMs]);
    assert.deepEqual(medians, [
      [seriesName('p2p', 'cdn'), 0, 20],
      [seriesName('p2p', 'peer'), 0.5, 40],
    ]);
    assert.equal(series.seqsPerPoint, 1);
  });

  it('merges consecutive seqs when the run has more chunks than points to draw', () => {
    const seqs = TIME_SERIES_MAX_POINTS * 3 + 1;
    const rows: FakeRow[] = [];
    for (let seq = 0; seq < seqs; seq++) rows.push({ viewer: 'a', seq, delayMs: seq, boundMs: 1, path: 'cdn' });
    const series = delayOverTime([mode('cdn', rows)]);
    assert.equal(series.seqsPerPoint, 4);
    const medians = series.points.filter((p) => p.statistic === 'median');
    assert.ok(medians.length <= TIME_SERIES_MAX_POINTS, String(medians.length));
    // First bucket holds seqs 0..3: the lower median of 0, 1, 2, 3 is 1.
    assert.equal(medians[0]!.delayMs, 1);
  });

  it('places churn on the run clock whether atUs is an epoch time or relative', () => {
    const rows: FakeRow[] = [{ viewer: 'a', seq: 0, delayMs: 1, boundMs: 1, path: 'cdn' }];
    const m = mode('cdn', rows, {
      events: [
        { atUs: 1_700_000_000_000_000 + 3_000_000, kind: 'leave', viewer: 'a', detail: '' },
        { atUs: 4_000_000, kind: 'kill', viewer: 'b', detail: '' },
        { atUs: 1_700_000_000_000_000, kind: 'join', viewer: 'c', detail: '' },
        { atUs: 5_000_000, kind: 'stall', viewer: 'c', detail: '' },
      ],
    });
    const churn = delayOverTime([m]).churn;
    assert.deepEqual(
      churn.map((c) => [c.kind, c.timeS]),
      [
        ['leave', 3],
        ['kill', 4],
      ],
    );
    assert.equal(runTimeS(2_000_000, 1_700_000_000_000_000), 2);
  });
});

describe('offloadBars', () => {
  it('gives the mode offload from summary.json and per-region shares from the rows', () => {
    const rows: FakeRow[] = [
      { viewer: 'a', seq: 0, delayMs: 1, boundMs: 1, path: 'peer' }, // south
      { viewer: 'a', seq: 1, delayMs: 1, boundMs: 1, path: 'cdn' },
      { viewer: 'b', seq: 0, delayMs: 1, boundMs: 1, path: 'peer' }, // north
    ];
    const bars = offloadBars([mode('p2p', rows)]);
    assert.deepEqual(
      bars.map((b) => [b.group, Math.round(b.offload * 100)]),
      [
        ['all viewers', 67],
        ['north', 100],
        ['south', 50],
      ],
    );
  });
});

describe('overlayDrawing', () => {
  it('links every viewer to its parent and lays the tree out by hops', async () => {
    const results = await readResults(join(FIXTURES, 'geo-both'));
    const p2p = results.modes.find((m) => m.mode === 'p2p')!;
    const drawing = overlayDrawing(p2p);
    assert.equal(drawing.kind, 'geo');
    assert.equal(drawing.unplaced, 0);
    assert.deepEqual(drawing.unknownParents, []);
    for (const p of p2p.overlay.parents) {
      const link = drawing.links.find((l) => l.to === p.viewer);
      assert.ok(link, `link to ${p.viewer}`);
      assert.equal(link.from, p.parent);
      assert.equal(link.kind, p.path === 'peer' ? 'peer path (viewer → viewer)' : 'CDN path (→ viewer)');
      assert.equal(link.toDepth, link.fromDepth + 1);
    }
    const depthOf = (role: string) => new Set(drawing.nodes.filter((n) => n.role === role).map((n) => n.depth));
    assert.deepEqual([...depthOf('broadcaster')], [0]);
    assert.deepEqual([...depthOf('origin')], [1]);
  });

  it('reports parents that are not in the plan and still places nodes of a parent cycle', () => {
    const m = mode('p2p', [{ viewer: 'x', seq: 0, delayMs: 1, boundMs: 1, path: 'peer' }], {});
    m.plan.viewers.push({ id: 'y', region: 'r', edgeId: 'edge-a', boundMs: 1, joinAtS: 0 });
    m.overlay = {
      parents: [
        { viewer: 'x', parent: 'y', path: 'peer' },
        { viewer: 'y', parent: 'x', path: 'peer' },
        { viewer: 'z', parent: 'ghost', path: 'peer' },
      ],
      changes: [],
    };
    const drawing = overlayDrawing(m);
    assert.deepEqual(drawing.unknownParents, ['ghost']);
    const x = drawing.nodes.find((n) => n.id === 'x')!;
    const y = drawing.nodes.find((n) => n.id === 'y')!;
    const edge = drawing.nodes.find((n) => n.id === 'edge-a')!;
    assert.ok(x.depth > edge.depth && y.depth > edge.depth, 'cycle nodes go to an extra layer after the tree');
  });
});
