// The simulator on the shipped scenarios: deterministic, never beats the bound, loses nothing
// under churn, and its per-chunk aggregation stays within the validation's tolerances of the
// full per-fragment model.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Mode, RunPlan } from '../../services/core/types.js';
import { Recorder } from '../../services/core/stats.js';
import { withAudience, planFor } from '../../services/lab/commands/sim.js';
import type { ChunkRecord } from '../../services/results/chunks.js';
import { loadPlan, loadScenarioFile } from '../../services/runtime/plan.js';
import { Simulation } from '../../services/sim/engine.js';

const scenario = (name: string) => join(import.meta.dirname, '..', '..', 'scenarios', `${name}.yaml`);

function simulate(plan: RunPlan, mode: Mode, aggregate = false) {
  const chunks: ChunkRecord[] = [];
  const events: Array<{ atUs: number; kind: string; viewer: string; detail: string }> = [];
  const result = new Simulation(
    { plan, mode, aggregate },
    { onChunk: (r) => chunks.push(r), onEvent: (e) => events.push(e) },
  ).run();
  return { chunks, events, result };
}

function medianBy(chunks: ChunkRecord[], path: 'cdn' | 'peer'): number {
  const r = new Recorder(0.001);
  for (const c of chunks) if (c.path === path) r.record(c.delayMs);
  return r.summary().p50 ?? Number.NaN;
}

/** Chunks a viewer present from its join's live edge to its departure did not get. */
function lost(plan: RunPlan, chunks: ChunkRecord[], produced: number): number {
  const got = new Map<string, Set<number>>();
  for (const c of chunks) {
    let s = got.get(c.viewer);
    if (!s) {
      s = new Set();
      got.set(c.viewer, s);
    }
    s.add(c.seq);
  }
  let missing = 0;
  for (const v of plan.viewers) {
    const s = got.get(v.id) ?? new Set<number>();
    const first = s.size > 0 ? Math.min(...s) : 0;
    const chunkS = plan.stream.chunkDurationUs / 1e6;
    const last = v.leaveAtS !== undefined ? Math.min(produced - 1, Math.floor(v.leaveAtS / chunkS) - 2) : produced - 1;
    for (let seq = first; seq <= last; seq++) if (!s.has(seq)) missing++;
  }
  return missing;
}

describe('simulator', () => {
  test('the same plan gives the same records, chunk for chunk (seeded, one event queue)', () => {
    const plan = loadPlan(scenario('churn'));
    const a = simulate(plan, 'p2p');
    const b = simulate(plan, 'p2p');
    assert.ok(a.chunks.length > 1000);
    assert.deepEqual(a.chunks, b.chunks);
    assert.deepEqual(a.events, b.events);
  });

  test('CDN path: every viewer gets every chunk from its join, none beats its bound', () => {
    const plan = loadPlan(scenario('world'));
    const { chunks, result } = simulate(plan, 'cdn');
    assert.equal(lost(plan, chunks, result.chunksProduced), 0);
    for (const c of chunks) {
      assert.ok(c.delayMs >= c.boundMs - 0.01, `${c.viewer} chunk ${c.seq}: ${c.delayMs} ms < bound ${c.boundMs} ms`);
      assert.equal(c.path, 'cdn');
      assert.equal(c.hops, c.parent === plan.originId ? 1 : 2);
    }
  });

  test('churn on the peer path: the killed and departed are routed around, nothing is lost', () => {
    const plan = loadPlan(scenario('churn'));
    assert.ok(plan.viewers.some((v) => v.leaveKind === 'kill'));
    const { chunks, events, result } = simulate(plan, 'p2p');
    assert.equal(lost(plan, chunks, result.chunksProduced), 0);
    const lostParents = events.filter((e) => e.kind === 'reparent' && e.detail.includes('parent-lost'));
    assert.ok(lostParents.length > 0, 'orphans were re-parented by the tracker');
    assert.ok(chunks.filter((c) => c.path === 'peer').length > chunks.length / 2, 'peers carry most chunks');
    for (const c of chunks) assert.ok(c.delayMs >= c.boundMs - 0.01);
  });

  test('per-chunk aggregation stays within 5 % of the per-fragment model (world, both paths)', () => {
    const plan = loadPlan(scenario('world'));
    for (const mode of ['cdn', 'p2p'] as const) {
      const full = simulate(plan, mode, false);
      const agg = simulate(plan, mode, true);
      for (const path of mode === 'cdn' ? (['cdn'] as const) : (['peer'] as const)) {
        const f = medianBy(full.chunks, path);
        const a = medianBy(agg.chunks, path);
        assert.ok(Math.abs(a - f) / f <= 0.05, `${mode} ${path}: aggregated p50 ${a} vs ${f} ms`);
      }
      assert.ok(agg.result.events < full.result.events || mode === 'cdn');
    }
  });

  test('--viewers scales each geo cluster in proportion, to the exact total', () => {
    const s = loadScenarioFile(scenario('world'));
    const scaled = withAudience(s, 1003);
    const counts = scaled.geo!.viewers.clusters.map((c) => c.count);
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      1003,
    );
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, 'equal clusters stay equal');
    assert.equal(planFor(s, 1003, undefined).viewers.length, 1003);
    assert.throws(() => withAudience(loadScenarioFile(scenario('small')), 10), /graph/);
  });
});

describe('world cities', () => {
  test('the bundled table: 1 000 cities by population, each a cluster of its share of the viewers', async () => {
    const { readWorldCities, withCities } = await import('../../services/lab/sim/cities.js');
    const cities = readWorldCities();
    assert.equal(cities.length, 1000);
    for (let i = 1; i < cities.length; i++) assert.ok(cities[i - 1]!.population >= cities[i]!.population);
    const s = withAudience(withCities(loadScenarioFile(scenario('world')), cities, 20), 10_000);
    const clusters = s.geo!.viewers.clusters;
    assert.equal(clusters.length, 20);
    assert.equal(new Set(clusters.map((c) => c.name)).size, 20);
    assert.equal(
      clusters.reduce((n, c) => n + c.count, 0),
      10_000,
    );
    // shares follow population: the largest city gets the most viewers, in proportion
    const ratio = clusters[0]!.count / clusters[19]!.count;
    const expected = cities[0]!.population / cities[19]!.population;
    assert.ok(Math.abs(ratio - expected) / expected < 0.05, `${ratio} vs ${expected}`);
    assert.equal(buildPlanFor(s).viewers.length, 10_000);
    assert.throws(() => withCities(loadScenarioFile(scenario('churn')), cities, 5), /joins viewers by cluster/);
  });
});

function buildPlanFor(s: ReturnType<typeof loadScenarioFile>) {
  return planFor(s, undefined, undefined);
}
