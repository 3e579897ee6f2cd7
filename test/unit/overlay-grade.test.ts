import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { referenceTree } from '../../services/core/overlay/reference.js';
import { gradeOverlay, plannerGap, referenceInputOf } from '../../services/lab/results/reference.js';
import { loadPlan } from '../../services/runtime/plan.js';
import { overlaySettings } from '../../services/tracker/settings.js';

const scenario = (name: string) => fileURLToPath(new URL(`../../scenarios/${name}.yaml`, import.meta.url));

test("the world's reference tree obeys the tracker's limits and no viewer beats its propagation bound", () => {
  const plan = loadPlan(scenario('world'));
  const input = referenceInputOf(plan);
  const s = overlaySettings(plan);
  assert.deepEqual(
    input.roots.map((r) => r.slots),
    [s.originSlots, ...plan.edges.map(() => s.edgeSlots)],
  );
  assert.equal(input.capacity.maxFanout, s.maxFanout);
  // roots: the origin one short hop from the broadcaster, each edge further
  const origin = input.roots[0]!;
  assert.ok(origin.delayMs > 0 && origin.delayMs < 5, `origin ${origin.delayMs} ms`);
  for (const edge of input.roots.slice(1)) assert.ok(edge.delayMs > origin.delayMs);
  const ref = referenceTree(input);
  assert.equal(ref.delayMs.size, plan.viewers.length);
  for (const v of plan.viewers) {
    const d = ref.delayMs.get(v.id)!;
    assert.ok(
      d >= v.boundPropagationMs,
      `${v.id}: reference ${d} ms below its propagation bound ${v.boundPropagationMs}`,
    );
  }
  const children = new Map<string, number>();
  for (const p of ref.parent.values()) children.set(p, (children.get(p) ?? 0) + 1);
  assert.ok((children.get(plan.originId) ?? 0) <= s.originSlots + ref.overBudget);
});

test('gradeOverlay weights each viewer by the chunks it received and grades the final tree the same way', () => {
  const plan = loadPlan(scenario('small'));
  const only = plan.viewers[0]!.id;
  const graded = gradeOverlay(plan, new Map([[only, 40]]), new Map([[only, plan.originId]]));
  assert.equal(graded.delayMs.count, 40, 'only the viewer that received chunks counts, 40 times');
  assert.equal(graded.finalTreeDelayMs?.count, 40);
  // directly under the origin: the final tree's delay is the origin's plus one hop
  const hop = plan.latencyMs(plan.broadcasterId, plan.originId) + plan.latencyMs(plan.originId, only);
  assert.ok(Math.abs(graded.finalTreeDelayMs!.p50! - hop) < 10, `${graded.finalTreeDelayMs!.p50} vs ${hop}`);
  assert.ok(graded.meanDelayMs <= graded.greedyMeanDelayMs);
});

test('planner gap is measured ÷ reference at p50 and p95, and absent without both', () => {
  const d = (p50: number | null, p95: number | null) => ({ p50, p95, p99: p95, max: p95, count: 1 });
  assert.deepEqual(plannerGap(d(120, 300), d(100, 200)), { p50: 1.2, p95: 1.5 });
  assert.equal(plannerGap(d(null, null), d(100, 200)), undefined);
  assert.equal(plannerGap(d(120, 300), d(null, null)), undefined);
});
