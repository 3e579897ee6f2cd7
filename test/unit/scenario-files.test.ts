// Every bundled scenario in scenarios/ parses, builds a plan, and keeps the shape it promises.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPlan } from '../../services/core/scenario/index.js';
import { loadScenarioFile } from '../../services/runtime/plan.js';

const DIR = join(import.meta.dirname, '..', '..', 'scenarios');
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));

test('the four required scenarios exist', () => {
  for (const f of ['world.yaml', 'small.yaml', 'metro.yaml', 'churn.yaml']) assert.ok(files.includes(f), f);
});

for (const file of files) {
  test(`${file} parses, builds a consistent plan, and starts with the question it answers`, () => {
    const path = join(DIR, file);
    assert.match(readFileSync(path, 'utf8'), /^# \S/);
    const scenario = loadScenarioFile(path);
    assert.equal(`${scenario.name}.yaml`, file, 'name matches the file name');
    const plan = buildPlan(scenario);
    assert.ok(plan.viewers.length > 0);
    const edgeIds = new Set(plan.edges.map((e) => e.id));
    for (const v of plan.viewers) {
      assert.ok(edgeIds.has(v.edgeId));
      assert.ok(v.boundMs > 0 && Number.isFinite(v.boundMs), `${v.id} bound ${v.boundMs}`);
      assert.equal(plan.hosts.get(v.id)?.role, 'peer');
    }
    for (const e of plan.churn) assert.ok(e.atS < plan.durationS);
  });
}

test('world.yaml is the world-scale default: ≥100 viewers, ≥3 edges, far and near cities', () => {
  const plan = buildPlan(loadScenarioFile(join(DIR, 'world.yaml')));
  assert.equal(plan.kind, 'geo');
  assert.ok(plan.viewers.length >= 100);
  assert.ok(plan.edges.length >= 3);
  assert.equal(plan.durationS, 30); // both modes in ≤ 2 minutes on a 2-core machine
  assert.equal(plan.stream.bitrateBps, 3e6);
  assert.equal(plan.stream.chunkDurationUs, 250_000);
  const regions = new Set(plan.viewers.map((v) => plan.hosts.get(v.id)!.region));
  for (const city of ['sao-paulo', 'sydney', 'johannesburg', 'mumbai']) assert.ok(regions.has(city), city);
  // arrivals spread over the first 8 s: a join storm of 120 probing viewers would load the machine
  for (const v of plan.viewers) assert.ok(v.joinAtS < 8);
  assert.ok(
    plan.viewers.some((v) => v.joinAtS > 4),
    'arrivals are spread',
  );
});

test('churn.yaml kills about 30% at 15 s, has graceful leaves at 20 s and joins at 10 s', () => {
  const plan = buildPlan(loadScenarioFile(join(DIR, 'churn.yaml')));
  const at = (kind: string, atS: number) => plan.churn.filter((e) => e.kind === kind && e.atS === atS).length;
  assert.ok(at('join', 10) > 0);
  assert.ok(at('leave', 20) > 0);
  const presentAt15 = plan.viewers.filter((v) => v.joinAtS <= 15).length;
  assert.ok(Math.abs(at('kill', 15) / presentAt15 - 0.3) < 0.05);
});

test('small.yaml is an explicit graph with four viewers on distinct latencies', () => {
  const plan = buildPlan(loadScenarioFile(join(DIR, 'small.yaml')));
  assert.equal(plan.kind, 'graph');
  assert.equal(plan.viewers.length, 4);
  assert.equal(new Set(plan.viewers.map((v) => v.boundPropagationMs)).size, 4);
});

test('metro.yaml clusters every viewer far from its edge', () => {
  const plan = buildPlan(loadScenarioFile(join(DIR, 'metro.yaml')));
  for (const v of plan.viewers) assert.ok(plan.latencyMs(v.edgeId, v.id) > 20, `${v.id} is near ${v.edgeId}`);
});
