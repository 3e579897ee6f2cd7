import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OverlayPlanner, type PlannerConfig } from '../../services/core/overlay/planner.js';
import { Prng } from '../../services/core/prng.js';

const config: PlannerConfig = {
  model: { slotBytes: 93_750, fragmentBytes: 16_384 },
  bitrateBps: 3e6,
  headroom: 1.25,
  maxFanout: 4,
  hysteresisMs: 8,
  hysteresisRatio: 0.1,
  cooldownRounds: 0,
  candidatesPerRound: 8,
};

/** Points on a line (ms): true one-way latency = |a − b| + 2 ms access at each peer. */
function world(positions: Record<string, number>) {
  const oneWay = (a: string, b: string) =>
    Math.abs(positions[a]! - positions[b]!) + (a.startsWith('v') ? 2 : 0) + (b.startsWith('v') ? 2 : 0);
  return { oneWay };
}

/** Drives a join the way the tracker does: two probe rounds with RTTs from `oneWay`. */
function joinPeer(p: OverlayPlanner, id: string, uplinkBps: number, oneWay: (a: string, b: string) => number) {
  p.register(id, uplinkBps);
  for (let round = 0; round < 2; round++) {
    const cands = p.candidatesFor(id);
    p.observe(
      id,
      cands.map((c) => ({ nodeId: c, rttMs: 2 * oneWay(id, c), delayMs: 0 })),
    );
  }
  return p.join(id);
}

test('every viewer is attached and no capacity is exceeded, whatever the join order and uplinks', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ x: fc.integer({ min: 0, max: 200 }), up: fc.constantFrom(1e6, 5e6, 20e6, 50e6) }), {
        minLength: 1,
        maxLength: 60,
      }),
      fc.integer(),
      (peers, seed) => {
        const positions: Record<string, number> = { origin: 0, edge: 150 };
        peers.forEach((q, i) => {
          positions[`v${i}`] = q.x;
        });
        const { oneWay } = world(positions);
        const p = new OverlayPlanner(config, new Prng(seed));
        p.addRoot('origin', 2, 10e9);
        p.addRoot('edge', 1, 10e9);
        peers.forEach((q, i) => {
          joinPeer(p, `v${i}`, q.up, oneWay);
        });
        assert.deepEqual(p.checkInvariants(), []);
        for (let i = 0; i < peers.length; i++) assert.ok(p.parentOf(`v${i}`), `v${i} attached`);
        // a 1 Mbit/s uplink cannot carry a 3 Mbit/s stream to anyone
        peers.forEach((q, i) => {
          if (q.up < 3.75e6) assert.equal(p.childrenOf(`v${i}`).length, 0);
        });
      },
    ),
    { numRuns: 60 },
  );
});

test('a viewer next to an attached viewer joins under it rather than far away', () => {
  const positions = { origin: 0, edge: 100, v1: 80, v2: 81 };
  const { oneWay } = world(positions);
  const p = new OverlayPlanner(config, new Prng(1));
  p.addRoot('origin', 1, 10e9);
  p.addRoot('edge', 0, 10e9);
  assert.equal(joinPeer(p, 'v1', 50e6, oneWay).parentId, 'origin');
  p.report('v1', oneWay('origin', 'v1') + 5);
  const d = joinPeer(p, 'v2', 50e6, oneWay);
  assert.equal(d.parentId, 'v1', 'origin is full; v1 is the nearest with room');
});

test('when a parent leaves, its orphans are re-parented with their subtrees and never under themselves', () => {
  const positions: Record<string, number> = { origin: 0, edge: 50 };
  for (let i = 0; i < 20; i++) positions[`v${i}`] = 10 + i;
  const { oneWay } = world(positions);
  const p = new OverlayPlanner(config, new Prng(7));
  p.addRoot('origin', 2, 10e9);
  p.addRoot('edge', 1, 10e9);
  for (let i = 0; i < 20; i++) joinPeer(p, `v${i}`, 20e6, oneWay);
  const victim = p.peers().find((id) => p.childrenOf(id).length > 0)!;
  const orphans = [...p.childrenOf(victim)];
  const decisions = p.leave(victim);
  assert.deepEqual(decisions.map((d) => d.peerId).sort(), orphans.sort());
  assert.ok(decisions.every((d) => d.reason === 'parent-lost'));
  assert.equal(p.has(victim), false);
  assert.deepEqual(p.checkInvariants(), []);
  for (const o of orphans) assert.ok(p.parentOf(o));
});

test('with no slot anywhere a viewer still gets the CDN (a root over budget)', () => {
  const { oneWay } = world({ origin: 0, edge: 10, v1: 5, v2: 6 });
  const p = new OverlayPlanner(config, new Prng(1));
  p.addRoot('origin', 0, 10e9);
  p.addRoot('edge', 0, 10e9);
  const d = joinPeer(p, 'v1', 1e6, oneWay);
  assert.equal(d.overBudget, true);
  assert.ok(['origin', 'edge'].includes(d.parentId));
});

test('while the audience is small the roots feed up to minRootFed viewers, then the share rules', () => {
  // Three viewers far apart: a 10 % budget of 3 viewers is 1 slot, and the other two would hang
  // below the first across the world; the floor lets each take a root.
  const positions: Record<string, number> = { origin: 0, edge: 400, a: 10, b: 200, c: 390 };
  for (let i = 0; i < 40; i++) positions[`v${i}`] = (i * 37) % 400;
  const { oneWay } = world(positions);
  const p = new OverlayPlanner({ ...config, maxFanout: 8, rootShare: 0.1, minRootFed: 3 }, new Prng(3));
  p.addRoot('origin', 8, 10e9);
  p.addRoot('edge', 8, 10e9);
  const rootFed = () => p.peers().filter((id) => ['origin', 'edge'].includes(p.parentOf(id)!)).length;
  for (const id of ['a', 'b', 'c']) {
    const d = joinPeer(p, id, 50e6, oneWay);
    assert.ok(['origin', 'edge'].includes(d.parentId), `${id} is fed by a root, not by ${d.parentId}`);
    assert.equal(d.overBudget, false);
  }
  for (let i = 0; i < 40; i++) {
    joinPeer(p, `v${i}`, 50e6, oneWay);
    assert.ok(rootFed() <= Math.max(3, Math.floor(0.1 * p.peerCount)), `root-fed ${rootFed()} at ${p.peerCount}`);
    assert.deepEqual(p.checkInvariants(), []);
  }
  for (let r = 0; r < 4; r++) p.improve(10);
  assert.ok(rootFed() <= Math.max(3, Math.floor(0.1 * p.peerCount)));
  assert.deepEqual(p.checkInvariants(), []);
});

test('the RTT of a pair is its least sample in either direction: a late answer does not move a viewer away', () => {
  const p = new OverlayPlanner(config, new Prng(5));
  p.addRoot('origin', 2, 10e9);
  p.register('a', 50e6);
  p.observe('a', [{ nodeId: 'origin', rttMs: 180, delayMs: 1 }]);
  assert.equal(p.join('a').parentId, 'origin');
  // b sits next to a, far from the origin: a measured b at 12 ms, b measured a at 10 ms and then
  // once at 300 ms (an answer from a stalled process).
  p.register('b', 50e6);
  p.observe('a', [{ nodeId: 'b', rttMs: 12, delayMs: 0 }]);
  p.observe('b', [
    { nodeId: 'origin', rttMs: 240, delayMs: 1 },
    { nodeId: 'a', rttMs: 10, delayMs: 0 },
  ]);
  p.observe('b', [{ nodeId: 'a', rttMs: 300, delayMs: 0 }]);
  const d = p.join('b');
  assert.equal(d.parentId, 'a', "via a: 1 + 90 + 5 ms (+ a frame) beats the origin's 1 + 120 ms");
  assert.ok(d.expectedDelayMs < 100, `expected ${d.expectedDelayMs} ms`);
});

test('improvement moves a viewer to a clearly better parent and then stays put (hysteresis)', () => {
  const positions = { origin: 0, edge: 100, a: 90, b: 10, c: 11 };
  const oneWay = (x: string, y: string) =>
    Math.abs((positions as Record<string, number>)[x]! - (positions as Record<string, number>)[y]!) + 1;
  const p = new OverlayPlanner(config, new Prng(3));
  p.addRoot('origin', 2, 10e9);
  p.addRoot('edge', 0, 10e9);
  joinPeer(p, 'a', 50e6, oneWay); // origin
  joinPeer(p, 'c', 50e6, oneWay); // origin: both slots used
  // b joins; only a (far) and c (near) have room
  p.register('b', 50e6);
  p.observe('b', [{ nodeId: 'a', rttMs: 2 * oneWay('a', 'b'), delayMs: 0 }]);
  const first = p.join('b');
  assert.equal(first.parentId, 'a');
  // b then learns about c (e.g. from a later report): it leaves far-away a, either for c or for
  // the origin's slot with a moving below c (the model's sum of delays decides), and only once
  p.observe('b', [{ nodeId: 'c', rttMs: 2 * oneWay('b', 'c'), delayMs: 0 }]);
  const before = p.delayOf('b');
  const moves = p.improve(10);
  assert.ok(
    moves.some((m) => m.peerId === 'b'),
    JSON.stringify(moves),
  );
  assert.notEqual(p.parentOf('b'), 'a');
  assert.ok(p.delayOf('b') < before - 50, `b: ${before} → ${p.delayOf('b')} ms`);
  assert.deepEqual(p.checkInvariants(), []);
  assert.deepEqual(p.improve(10), [], 'no flapping once placed');
});

test('a full root swaps a nearby child for a far viewer that gains much more from its slot', () => {
  // y took the origin's only slot, z the edge's; far then finds room only under z, a long detour
  const table: Record<string, number> = {
    'origin|y': 5,
    'edge|y': 40,
    'origin|z': 7,
    'edge|z': 5,
    'y|z': 2,
    'far|origin': 50,
    'edge|far': 100,
    'far|y': 120,
    'far|z': 100,
    'edge|origin': 5,
  };
  const oneWay = (a: string, b: string) => table[[a, b].sort().join('|')]!;
  const p = new OverlayPlanner(config, new Prng(5));
  p.addRoot('origin', 1, 10e9);
  p.addRoot('edge', 1, 10e9, 3);
  for (const id of ['y', 'z', 'far']) {
    p.register(id, 50e6);
    p.observe(
      id,
      ['origin', 'edge', 'y', 'z']
        .filter((o) => o !== id && p.has(o))
        .map((o) => ({ nodeId: o, rttMs: 2 * oneWay(id, o), delayMs: 0 })),
    );
    p.join(id);
  }
  assert.deepEqual([p.parentOf('y'), p.parentOf('z'), p.parentOf('far')], ['origin', 'edge', 'z']);
  const moves = p.improve(10);
  assert.equal(p.parentOf('far'), 'origin', JSON.stringify(moves));
  assert.equal(p.parentOf('y'), 'z', 'y moved to its best other parent');
  assert.deepEqual(p.checkInvariants(), []);
  assert.deepEqual(p.improve(10), [], 'and it does not swap back');
});

test('improvement rounds never raise the sum of delays the model predicts, whatever the tree', () => {
  // The tree drifted when moves were judged on reported delays that lag behind other moves;
  // every move is now scored on the model's own sum, so without new measurements it only falls.
  // (Uplinks that can all relay: a viewer the CDN serves over budget moves under a peer even at a
  // cost in delay, which is the budget's point, not an improvement.)
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          x: fc.integer({ min: 0, max: 300 }),
          up: fc.constantFrom(8e6, 20e6, 50e6),
        }),
        { minLength: 2, maxLength: 50 },
      ),
      fc.integer(),
      fc.boolean(),
      (peers, seed, segment) => {
        const positions: Record<string, number> = { origin: 0, edge: 250 };
        peers.forEach((q, i) => {
          positions[`v${i}`] = q.x;
        });
        const { oneWay } = world(positions);
        const p = new OverlayPlanner(
          {
            ...config,
            maxFanout: 16,
            hysteresisMs: 0.5,
            hysteresisRatio: 0,
            model: segment
              ? { slotBytes: 93_750, fragmentBytes: 16_384 }
              : { slotBytes: 11_719, fragmentBytes: 11_719 },
          },
          new Prng(seed),
        );
        p.addRoot('origin', 2, 10e9, 1);
        p.addRoot('edge', 1, 10e9, 130);
        peers.forEach((q, i) => {
          joinPeer(p, `v${i}`, q.up, oneWay);
        });
        // everyone has probed everyone: the improvement rounds have choices
        for (let i = 0; i < peers.length; i++)
          p.observe(
            `v${i}`,
            peers
              .map((_, j) => ({ nodeId: `v${j}`, rttMs: 2 * oneWay(`v${i}`, `v${j}`), delayMs: 0 }))
              .filter((s) => s.nodeId !== `v${i}`),
          );
        let before = p.totalDelayMs();
        for (let round = 0; round < 4; round++) {
          p.improve(10);
          const after = p.totalDelayMs();
          assert.ok(after <= before + 1e-6, `round ${round}: ${before} → ${after}`);
          assert.deepEqual(p.checkInvariants(), []);
          before = after;
        }
      },
    ),
    { numRuns: 60 },
  );
});

test('children are kept in the order their relay serves them: larger subtrees (priority) first', () => {
  const positions: Record<string, number> = { origin: 0, edge: 500 };
  for (let i = 0; i < 12; i++) positions[`v${i}`] = 100 + i;
  const { oneWay } = world(positions);
  const p = new OverlayPlanner({ ...config, maxFanout: 3 }, new Prng(2));
  p.addRoot('origin', 1, 10e9, 1);
  p.addRoot('edge', 0, 10e9, 200);
  for (let i = 0; i < 12; i++) joinPeer(p, `v${i}`, 50e6, oneWay);
  const decisions = new Map<string, number>();
  for (const id of p.peers()) {
    const kids = p.childrenOf(id);
    for (let i = 1; i < kids.length; i++) decisions.set(`${id}:${i}`, i);
  }
  assert.deepEqual(p.checkInvariants(), []);
  // the model's delay of a child at position i of a peer includes i slots of its parent's uplink
  const parent = p.peers().find((id) => p.childrenOf(id).length >= 2)!;
  const [first, second] = p.childrenOf(parent);
  const slotMs = (93_750 * 8 * 1000) / 50e6;
  const d1 = p.delayOf(first!) - oneWay(parent, first!);
  const d2 = p.delayOf(second!) - oneWay(parent, second!);
  assert.ok(Math.abs(d2 - d1 - slotMs) < 1e-6, `${d2} − ${d1} = one slot of ${slotMs} ms`);
});

test('a large audience: candidates come from a bounded pool of peers with room, and the nearer cluster wins', () => {
  const p = new OverlayPlanner({ ...config, maxFanout: 8, candidatesPerRound: 6 }, new Prng(3));
  p.addRoot('origin', 8, 10e9);
  // Two cities 100 ms apart, 1 500 viewers each (more peers with room than NEAREST_POOL).
  const pos: Record<string, number> = { origin: 0 };
  for (let i = 0; i < 3000; i++) pos[`v${i}`] = (i % 2) * 100 + (i % 7) * 0.1;
  const { oneWay } = world(pos);
  for (let i = 0; i < 3000; i++) joinPeer(p, `v${i}`, 50e6, oneWay);
  assert.deepEqual(p.checkInvariants(), []);
  p.register('late', 50e6);
  pos.late = 100.05;
  const first = p.candidatesFor('late');
  assert.equal(first.length, 1 + 6, 'the root and a sample of six');
  p.observe(
    'late',
    first.map((c) => ({ nodeId: c, rttMs: 2 * oneWay('late', c), delayMs: 0 })),
  );
  const second = p.candidatesFor('late');
  assert.equal(second.length, 6);
  assert.equal(new Set(second).size, 6);
  for (const c of second) assert.ok(!first.includes(c), `${c} was probed already`);
  // Coordinates learnt from the first round place the joiner in its city: the nearest are there.
  const near = second.filter((c) => pos[c]! >= 100).length;
  assert.ok(near >= 5, `${near} of 6 candidates in the joiner's city`);
  assert.equal(p.parentOf(joinPeer(p, 'late', 50e6, oneWay).peerId) !== undefined, true);
});
