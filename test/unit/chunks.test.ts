import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChunkAssembler, fragmentRanges } from '../../services/core/chunks.js';
import { Recorder } from '../../services/core/stats.js';

test('fragments tile the chunk exactly', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 200_000 }), fc.integer({ min: 1, max: 20_000 }), (total, frag) => {
      const r = fragmentRanges(total, frag);
      assert.equal(
        r.reduce((a, x) => a + x.length, 0),
        total,
      );
      r.forEach((x, i) => {
        assert.equal(x.offset, i * frag);
      });
      assert.ok(r.every((x) => x.length > 0 && x.length <= frag));
    }),
  );
});

test('a chunk completes once, whatever the order and duplication of its fragments', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50_000 }),
      fc.integer({ min: 100, max: 5_000 }),
      fc.integer(),
      (total, frag, seed) => {
        const ranges = fragmentRanges(total, frag);
        const order = [...ranges, ...ranges.slice(0, Math.max(1, ranges.length >> 1))];
        // deterministic shuffle from the property's seed
        let s = seed >>> 0;
        for (let i = order.length - 1; i > 0; i--) {
          s = (s * 1103515245 + 12345) >>> 0;
          const j = s % (i + 1);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        const a = new ChunkAssembler();
        const results = order.map((r) => a.add({ seq: 7, offset: r.offset, length: r.length, totalBytes: total }));
        assert.equal(results.filter((x) => x === 'complete').length, 1);
        assert.equal(results.filter((x) => x === 'duplicate').length, order.length - ranges.length);
        assert.ok(a.isComplete(7));
      },
    ),
  );
});

test('recorder percentiles and merge across processes', () => {
  const a = new Recorder(0.001);
  const b = new Recorder(0.001);
  for (let i = 1; i <= 100; i++) a.record(i);
  for (let i = 101; i <= 200; i++) b.record(i);
  // HDR keeps 3 significant digits: values come back within 0.1 %.
  assert.ok(Math.abs(a.summary().p50! - 50) <= 0.05, `p50 ${a.summary().p50}`);
  const merged = new Recorder(0.001);
  merged.merge(a.encode());
  merged.merge(b.encode());
  const s = merged.summary();
  assert.equal(s.count, 200);
  assert.ok(Math.abs(s.p50! - 100) <= 0.1, `p50 ${s.p50}`);
  assert.equal(s.max, 200);
  assert.deepEqual(new Recorder(1).summary(), { p50: null, p95: null, p99: null, max: null, count: 0 });
});
