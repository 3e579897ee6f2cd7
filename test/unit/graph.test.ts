// Dijkstra shortest paths with widths (services/core/graph.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Graph, InvalidLinkError, UnknownNodeError } from '../../services/core/graph.js';

test('the lower-latency route wins over the one with fewer hops', () => {
  const g = new Graph();
  for (const id of ['a', 'b', 'c', 'd']) g.addNode(id);
  g.addLink('a', 'd', 30, 1e9); // direct but slow
  g.addLink('a', 'b', 5, 1e9);
  g.addLink('b', 'c', 5, 1e9);
  g.addLink('c', 'd', 5, 1e9);
  const p = g.shortestPath('a', 'd');
  assert.deepEqual(p?.path, ['a', 'b', 'c', 'd']);
  assert.equal(p?.distanceMs, 15);
});

test('width is the narrowest link and intermediate transit, not the end nodes', () => {
  const g = new Graph();
  g.addNode('src', 1); // end nodes' own capacity is the caller's business
  g.addNode('sw'); // switch: unconstrained transit
  g.addNode('relay', 30e6); // host relaying at most 30 Mbit/s
  g.addNode('dst', 1);
  g.addLink('src', 'sw', 1, 1e9);
  g.addLink('sw', 'relay', 1, 100e6);
  g.addLink('relay', 'dst', 1, 50e6);
  assert.equal(g.shortestPath('src', 'dst')?.widthBps, 30e6);
  assert.equal(g.shortestPath('src', 'relay')?.widthBps, 100e6);
});

test('among equal-latency routes the wider one is chosen', () => {
  const g = new Graph();
  for (const id of ['a', 'narrow', 'wide', 'z']) g.addNode(id);
  g.addLink('a', 'narrow', 5, 10e6);
  g.addLink('narrow', 'z', 5, 10e6);
  g.addLink('a', 'wide', 7, 1e9);
  g.addLink('wide', 'z', 3, 1e9);
  const p = g.shortestPath('a', 'z');
  assert.deepEqual(p?.path, ['a', 'wide', 'z']);
  assert.equal(p?.widthBps, 1e9);
});

test('unreachable nodes have no path; unknown ids and bad links are rejected', () => {
  const g = new Graph();
  g.addNode('a');
  g.addNode('island');
  assert.equal(g.shortestPath('a', 'island'), undefined);
  assert.equal(g.shortestPaths('a').distanceMs[g.indexOf('island')!], Number.POSITIVE_INFINITY);
  assert.deepEqual([...g.reachableFrom('a')], ['a']);
  assert.throws(() => g.shortestPath('a', 'nope'), UnknownNodeError);
  assert.throws(() => g.addLink('a', 'a', 1, 1), InvalidLinkError);
  assert.throws(() => g.addLink('a', 'island', -1, 1), InvalidLinkError);
  assert.throws(() => g.addLink('a', 'island', 1, 0), InvalidLinkError);
});

/** Random connected graphs: a spanning chain plus extra links. */
const randomGraph = fc
  .integer({ min: 2, max: 12 })
  .chain((n) =>
    fc.record({
      n: fc.constant(n),
      chain: fc.array(fc.double({ min: 0, max: 50, noNaN: true }), { minLength: n - 1, maxLength: n - 1 }),
      extra: fc.array(
        fc.record({
          a: fc.integer({ min: 0, max: n - 1 }),
          b: fc.integer({ min: 0, max: n - 1 }),
          latencyMs: fc.double({ min: 0, max: 50, noNaN: true }),
        }),
        { maxLength: 20 },
      ),
    }),
  )
  .map(({ n, chain, extra }) => {
    const g = new Graph();
    for (let i = 0; i < n; i++) g.addNode(`n${i}`);
    const links: [number, number, number][] = chain.map((l, i) => [i, i + 1, l]);
    for (const e of extra) if (e.a !== e.b) links.push([e.a, e.b, e.latencyMs]);
    for (const [a, b, l] of links) g.addLink(`n${a}`, `n${b}`, l, 1e9);
    return { g, n, links };
  });

test('shortest distances are symmetric, never exceed a direct link, and obey the triangle inequality', () => {
  fc.assert(
    fc.property(randomGraph, ({ g, n, links }) => {
      const d = Array.from({ length: n }, (_, i) => g.shortestPaths(`n${i}`).distanceMs);
      // Ties within LATENCY_TIE_RELATIVE_EPSILON go to the wider path, so a distance may exceed
      // the shortest by that relative amount: compare with a relative tolerance.
      const eps = (x: number) => 1e-8 * (1 + x);
      for (const [a, b, l] of links) assert.ok(d[a]![b]! <= l + eps(l));
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          assert.ok(Math.abs(d[i]![j]! - d[j]![i]!) < eps(d[i]![j]!));
          for (let k = 0; k < n; k++) assert.ok(d[i]![k]! <= d[i]![j]! + d[j]![k]! + eps(d[i]![j]! + d[j]![k]!));
        }
      }
    }),
    { numRuns: 150 },
  );
});

test('the returned path is a real chain of links whose latencies add up to the distance', () => {
  fc.assert(
    fc.property(randomGraph, ({ g, n, links }) => {
      const best = new Map<string, number>();
      for (const [a, b, l] of links) {
        for (const key of [`n${a}|n${b}`, `n${b}|n${a}`]) best.set(key, Math.min(best.get(key) ?? Infinity, l));
      }
      const p = g.shortestPath('n0', `n${n - 1}`)!;
      let sum = 0;
      for (let i = 1; i < p.path.length; i++) {
        const l = best.get(`${p.path[i - 1]}|${p.path[i]}`);
        assert.notEqual(l, undefined, `no link ${p.path[i - 1]}–${p.path[i]}`);
        sum += l!;
      }
      assert.ok(Math.abs(sum - p.distanceMs) < 1e-6);
    }),
    { numRuns: 150 },
  );
});
