import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { childCapacity, queueingMs, type HopModel } from '../../services/core/overlay/model.js';
import { Prng } from '../../services/core/prng.js';
import {
  evaluateTree,
  referenceTree,
  type ReferenceInput,
  type ReferenceTree,
} from '../../services/core/overlay/reference.js';

const capacity = { bitrateBps: 3e6, headroom: 1.25, maxFanout: 16 };

/** Hosts on a plane (ms): latency = distance + the access latency of both ends. */
function planeInput(
  roots: Array<{ id: string; x: number; y: number; slots: number; delayMs: number }>,
  viewers: Array<{ id: string; x: number; y: number; uplinkBps: number }>,
  model: HopModel,
): ReferenceInput {
  const at = new Map<string, { x: number; y: number; access: number }>();
  for (const r of roots) at.set(r.id, { x: r.x, y: r.y, access: 0.5 });
  for (const v of viewers) at.set(v.id, { x: v.x, y: v.y, access: 4 });
  return {
    roots: roots.map((r) => ({ id: r.id, uplinkBps: 10e9, downlinkBps: 10e9, delayMs: r.delayMs, slots: r.slots })),
    viewers: viewers.map((v) => ({ id: v.id, uplinkBps: v.uplinkBps, downlinkBps: 100e6 })),
    latencyMs: (a, b) => {
      const p = at.get(a)!;
      const q = at.get(b)!;
      return Math.hypot(p.x - q.x, p.y - q.y) + p.access + q.access;
    },
    model,
    capacity,
  };
}

/**
 * The mean delay of a tree computed here from the formula alone (children served largest subtree
 * first), independently of the reference's own bookkeeping.
 */
function meanDelayByFormula(input: ReferenceInput, parent: ReadonlyMap<string, string>): number {
  const kids = new Map<string, string[]>();
  for (const [v, p] of parent) kids.set(p, [...(kids.get(p) ?? []), v]);
  const size = (x: string): number => 1 + (kids.get(x) ?? []).reduce((s, c) => s + size(c), 0);
  const host = new Map([...input.roots, ...input.viewers].map((h) => [h.id, h]));
  let total = 0;
  let count = 0;
  const walk = (x: string, delay: number) => {
    const ordered = [...(kids.get(x) ?? [])].sort((a, b) => size(b) - size(a));
    ordered.forEach((c, i) => {
      const d =
        delay + input.latencyMs(x, c) + queueingMs(input.model, host.get(x)!.uplinkBps, host.get(c)!.downlinkBps, i);
      total += d;
      count++;
      walk(c, d);
    });
  };
  for (const r of input.roots) walk(r.id, r.delayMs);
  assert.equal(count, parent.size, 'every viewer hangs below a root');
  return total / count;
}

function checkCapacities(input: ReferenceInput, ref: ReferenceTree): void {
  const children = new Map<string, number>();
  for (const p of ref.parent.values()) children.set(p, (children.get(p) ?? 0) + 1);
  for (const v of input.viewers) {
    assert.ok(
      (children.get(v.id) ?? 0) <= childCapacity(v.uplinkBps, capacity),
      `${v.id} has ${children.get(v.id)} children on a ${v.uplinkBps} bit/s uplink`,
    );
  }
  let beyondBudget = 0;
  let rootFed = 0;
  for (const r of input.roots) {
    beyondBudget += Math.max(0, (children.get(r.id) ?? 0) - r.slots);
    rootFed += children.get(r.id) ?? 0;
  }
  assert.ok(beyondBudget <= ref.overBudget, `roots serve ${beyondBudget} viewers beyond their slots`);
  if (input.rootBudget !== undefined)
    assert.ok(rootFed <= input.rootBudget + ref.overBudget, `roots serve ${rootFed} > budget ${input.rootBudget}`);
}

const arbitraryInstance = fc.record({
  viewers: fc.array(
    fc.record({
      x: fc.integer({ min: 0, max: 150 }),
      y: fc.integer({ min: 0, max: 150 }),
      uplinkBps: fc.constantFrom(2e6, 8e6, 20e6, 50e6),
    }),
    { minLength: 1, maxLength: 40 },
  ),
  originSlots: fc.integer({ min: 0, max: 4 }),
  edgeSlots: fc.integer({ min: 0, max: 2 }),
  /** all roots together (the CDN-byte budget), or their slots only */
  rootBudget: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
  segment: fc.boolean(),
});

test('the reference tree never has a higher mean delay than its greedy start, and never breaks a capacity', () => {
  fc.assert(
    fc.property(arbitraryInstance, ({ viewers, originSlots, edgeSlots, rootBudget, segment }) => {
      const model: HopModel = segment
        ? { slotBytes: 93_750, fragmentBytes: 16_384 }
        : { slotBytes: 12_500, fragmentBytes: 12_500 };
      const input = planeInput(
        [
          { id: 'origin', x: 0, y: 0, slots: originSlots, delayMs: 1.5 },
          { id: 'edge', x: 120, y: 120, slots: edgeSlots, delayMs: 1.5 + 170 },
        ],
        viewers.map((v, i) => ({ id: `v${i}`, ...v })),
        model,
      );
      if (rootBudget !== undefined) input.rootBudget = rootBudget;
      const greedy = referenceTree(input, { greedyOnly: true });
      const ref = referenceTree(input);
      assert.ok(ref.meanDelayMs <= greedy.meanDelayMs + 1e-9, `${ref.meanDelayMs} > greedy ${greedy.meanDelayMs}`);
      assert.equal(ref.greedyMeanDelayMs, greedy.meanDelayMs);
      assert.equal(ref.parent.size, viewers.length, 'every viewer is attached');
      checkCapacities(input, ref);
      assert.ok(Math.abs(meanDelayByFormula(input, ref.parent) - ref.meanDelayMs) < 1e-6);
      assert.ok(Math.abs(evaluateTree(input, ref.parent).meanDelayMs - ref.meanDelayMs) < 1e-6);
    }),
    { numRuns: 80 },
  );
});

test('local search gives the root slot to the viewer next to the root when a far one took it first', () => {
  // far joins first and takes the origin's only slot; near (10 ms from the origin) then has to
  // hang below far (100 ms away): promoting near over far saves ~180 ms for near and costs far little.
  const input = planeInput(
    [{ id: 'origin', x: 0, y: 0, slots: 1, delayMs: 1 }],
    [
      { id: 'far', x: 100, y: 0, uplinkBps: 50e6 },
      { id: 'near', x: 10, y: 0, uplinkBps: 50e6 },
    ],
    { slotBytes: 12_500, fragmentBytes: 12_500 },
  );
  const greedy = referenceTree(input, { greedyOnly: true });
  assert.equal(greedy.parent.get('near'), 'far');
  const ref = referenceTree(input);
  assert.deepEqual(Object.fromEntries(ref.parent), { near: 'origin', far: 'near' });
  assert.ok(ref.meanDelayMs < greedy.meanDelayMs - 50, `${ref.meanDelayMs} vs ${greedy.meanDelayMs}`);
});

test('the root slot goes to the viewer that can relay, not to the one that took it first', () => {
  // v0 (no uplink to spare) joined first and took the origin's only slot, so v1 had to go to a far
  // edge; the reference hands the slot to v1 and puts v0 below it (a displacement).
  const input = planeInput(
    [
      { id: 'origin', x: 0, y: 0, slots: 1, delayMs: 1 },
      { id: 'edge', x: 200, y: 0, slots: 1, delayMs: 100 },
    ],
    [
      { id: 'v0', x: 10, y: 0, uplinkBps: 2e6 },
      { id: 'v1', x: 12, y: 0, uplinkBps: 50e6 },
    ],
    { slotBytes: 12_500, fragmentBytes: 12_500 },
  );
  assert.deepEqual(Object.fromEntries(referenceTree(input, { greedyOnly: true }).parent), { v0: 'origin', v1: 'edge' });
  assert.deepEqual(Object.fromEntries(referenceTree(input).parent), { v0: 'v1', v1: 'origin' });
});

test('on small instances the reference is the exhaustive optimum in most cases and close to it in all', () => {
  // Seeded, not fast-check: the claim is statistical (local search is not exact), so the
  // instances are fixed. The greedy start alone is optimal in about a third of them.
  const prng = new Prng(13);
  let instances = 0;
  let optimal = 0;
  let worst = 1;
  for (let k = 0; k < 120; k++) {
    const count = prng.int(2, 5);
    const viewers = Array.from({ length: count }, (_, i) => ({
      id: `v${i}`,
      x: prng.int(0, 150),
      y: prng.int(0, 150),
      uplinkBps: prng.pick([2e6, 8e6, 20e6, 50e6]),
    }));
    const input = planeInput(
      [
        { id: 'origin', x: 0, y: 0, slots: prng.int(1, 2), delayMs: 1.5 },
        { id: 'edge', x: 120, y: 120, slots: prng.int(0, 1), delayMs: 171.5 },
      ],
      viewers,
      prng.int(0, 1) === 1
        ? { slotBytes: 93_750, fragmentBytes: 16_384 }
        : { slotBytes: 12_500, fragmentBytes: 12_500 },
    );
    const ref = referenceTree(input);
    if (ref.overBudget > 0) continue;
    const optimum = exhaustiveOptimum(input);
    instances++;
    if (ref.meanDelayMs <= optimum + 1e-9) optimal++;
    worst = Math.max(worst, ref.meanDelayMs / optimum);
  }
  assert.ok(optimal >= 0.8 * instances, `optimal in ${optimal} of ${instances}`);
  assert.ok(worst < 1.4, `worst ratio to the optimum ${worst}`);
});

/** The least mean delay over every tree that respects the capacities (tiny instances only). */
function exhaustiveOptimum(input: ReferenceInput): number {
  const ids = [...input.roots, ...input.viewers].map((h) => h.id);
  const limit = new Map<string, number>([
    ...input.roots.map((r) => [r.id, r.slots] as const),
    ...input.viewers.map((v) => [v.id, childCapacity(v.uplinkBps, capacity)] as const),
  ]);
  let best = Infinity;
  const parent = new Map<string, string>();
  const children = new Map<string, number>();
  const reachesRoot = (v: string) => {
    let x: string | undefined = v;
    for (let hops = 0; x !== undefined && hops <= ids.length; hops++) {
      if (!parent.has(x)) return true;
      x = parent.get(x);
    }
    return false;
  };
  const place = (i: number) => {
    if (i === input.viewers.length) {
      if (input.viewers.every((v) => reachesRoot(v.id))) best = Math.min(best, meanDelayByFormula(input, parent));
      return;
    }
    const v = input.viewers[i]!.id;
    for (const p of ids) {
      if (p === v || (children.get(p) ?? 0) >= limit.get(p)!) continue;
      parent.set(v, p);
      children.set(p, (children.get(p) ?? 0) + 1);
      place(i + 1);
      children.set(p, children.get(p)! - 1);
      parent.delete(v);
    }
  };
  place(0);
  return best;
}

test('with no slot anywhere the reference still attaches every viewer, to a root over its budget', () => {
  const input = planeInput(
    [{ id: 'origin', x: 0, y: 0, slots: 0, delayMs: 1 }],
    [
      { id: 'v1', x: 5, y: 0, uplinkBps: 1e6 },
      { id: 'v2', x: 6, y: 0, uplinkBps: 1e6 },
    ],
    { slotBytes: 12_500, fragmentBytes: 12_500 },
  );
  const ref = referenceTree(input);
  assert.equal(ref.overBudget, 2);
  assert.deepEqual([...ref.parent.values()], ['origin', 'origin']);
});

test('evaluateTree leaves out viewers that hang below nobody', () => {
  const input = planeInput(
    [{ id: 'origin', x: 0, y: 0, slots: 4, delayMs: 1 }],
    [
      { id: 'v1', x: 5, y: 0, uplinkBps: 50e6 },
      { id: 'v2', x: 6, y: 0, uplinkBps: 50e6 },
      { id: 'v3', x: 7, y: 0, uplinkBps: 50e6 },
    ],
    { slotBytes: 12_500, fragmentBytes: 12_500 },
  );
  const e = evaluateTree(
    input,
    new Map([
      ['v1', 'origin'],
      ['v2', 'gone'],
      ['v3', 'v2'],
    ]),
  );
  assert.deepEqual([...e.delayMs.keys()], ['v1']);
  assert.equal(e.meanDelayMs, e.delayMs.get('v1'));
});
