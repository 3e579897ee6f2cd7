// Agreement between two backends' runs (`livepath compare-backends`): per viewer and path, median
// and p95 side by side, the ratio, and whether both are within the target.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agreementRows, delaysByViewerPath, formatAgreement } from '../../services/lab/agreement.js';
import type { ChunkTable } from '../../services/results/chunks.js';

/** A chunk table of `rows` [viewer, path code, producedAtUs, delayMs, boundMs]. */
function table(rows: Array<[string, 0 | 1, number, number, number]>): ChunkTable {
  const viewers = [...new Set(rows.map((r) => r[0]))];
  const n = rows.length;
  return {
    rowCount: n,
    viewers,
    parents: ['edge'],
    viewerIndex: Int32Array.from(rows.map((r) => viewers.indexOf(r[0]))),
    seq: Float64Array.from(rows.map((_, i) => i)),
    producedAtUs: Float64Array.from(rows.map((r) => r[2])),
    receivedAtUs: Float64Array.from(rows.map((r) => r[2] + r[3] * 1000)),
    delayMs: Float32Array.from(rows.map((r) => r[3])),
    boundMs: Float32Array.from(rows.map((r) => r[4])),
    path: Uint8Array.from(rows.map((r) => r[1])),
    hops: new Uint16Array(n),
    parentIndex: new Int32Array(n),
  };
}

const steady = (viewer: string, path: 0 | 1, delays: number[]) =>
  delays.map((d, i) => [viewer, path, 2_000_000 + i * 250_000, d, 20] as [string, 0 | 1, number, number, number]);

test('per viewer and path: median, p95 and bound; chunks before the warm-up are left out', () => {
  const t = table([
    ['v1', 0, 0, 500, 20], // start-up: left out
    ...steady('v1', 0, [20, 21, 22, 23, 24, 25, 26, 27, 28, 40]),
    ...steady('v1', 1, [30, 30, 30]),
  ]);
  const d = delaysByViewerPath(t, { skipBeforeUs: 1_000_000 });
  assert.deepEqual([...d.keys()].sort(), ['v1\tcdn', 'v1\tpeer']);
  assert.equal(d.get('v1\tcdn')!.chunks, 10);
  // HDR histograms keep 3 significant digits
  const near = (x: number, y: number) => assert.ok(Math.abs(x - y) < 0.05, `${x} ≉ ${y}`);
  near(d.get('v1\tcdn')!.medianMs, 24);
  near(d.get('v1\tcdn')!.p95Ms, 40);
  near(d.get('v1\tcdn')!.boundMs, 20);
});

test('ratios are b ÷ a; a pair agrees only when both are within the target; one-sided pairs are shown', () => {
  const a = delaysByViewerPath(table([...steady('v1', 0, [20, 20, 20]), ...steady('v2', 0, [40, 40, 40])]));
  const b = delaysByViewerPath(
    table([...steady('v1', 0, [21, 21, 21]), ...steady('v2', 0, [48, 48, 48]), ...steady('v3', 1, [9])]),
  );
  const rows = agreementRows('cdn', a, b);
  assert.deepEqual(
    rows.map((r) => [r.viewer, r.path, r.medianRatio?.toFixed(2), r.agrees]),
    [
      ['v1', 'cdn', '1.05', true],
      ['v2', 'cdn', '1.20', false],
      ['v3', 'peer', undefined, false],
    ],
  );
  const text = formatAgreement(rows, ['local', 'mininet']);
  assert.match(text, /1 of 2 \(viewer, path\) pairs within the target/);
  assert.match(text, /only one/);
});
