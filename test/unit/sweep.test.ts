import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  expandVariants,
  parseSetting,
  SweepSettingError,
  type SweepResult,
} from '../../services/lab/commands/sweep.js';
import { buildSweepHtml, sweepChartPoints, SWEEP_SERIES } from '../../services/lab/report/sweep.js';

const worldPath = fileURLToPath(new URL('../../scenarios/world.yaml', import.meta.url));
const world = readFileSync(worldPath, 'utf8');

test('--set parses a dotted key and YAML scalar values', () => {
  assert.deepEqual(parseSetting('overlay.originSlots=1,2,4'), {
    key: 'overlay.originSlots',
    path: ['overlay', 'originSlots'],
    values: [1, 2, 4],
  });
  assert.deepEqual(parseSetting('geo.viewers.clusters.0.count=5, 10').path, ['geo', 'viewers', 'clusters', 0, 'count']);
  assert.deepEqual(parseSetting('stream.production=segment,progressive').values, ['segment', 'progressive']);
  assert.deepEqual(parseSetting('stream.bitrateBps=3e6').values, [3e6]);
});

test('a malformed --set is a one-line error that says what to write', () => {
  for (const [arg, says] of [
    ['overlay.originSlots', /KEY=V1,V2/],
    ['=1,2', /KEY=V1,V2/],
    ['overlay..x=1', /not a dotted scenario key/],
    ['overlay.originSlots=1,,2', /empty value/],
    ['overlay.originSlots=1,1', /listed twice/],
  ] as const) {
    assert.throws(
      () => parseSetting(arg),
      (e: Error) => e instanceof SweepSettingError && says.test(e.message) && !e.message.includes('\n'),
      arg,
    );
  }
});

test('variants are every combination, each a valid scenario with the keys set and its comments kept', () => {
  const variants = expandVariants(world, worldPath, [
    parseSetting('overlay.originSlots=1,8'),
    parseSetting('overlay.edgeSlots=0,2'),
  ]);
  assert.deepEqual(
    variants.map((v) => v.name),
    [
      'originSlots=1,edgeSlots=0',
      'originSlots=1,edgeSlots=2',
      'originSlots=8,edgeSlots=0',
      'originSlots=8,edgeSlots=2',
    ],
  );
  assert.deepEqual(variants[3]!.plan.overlay.originSlots, 8);
  assert.deepEqual(variants[3]!.plan.overlay.edgeSlots, 2);
  assert.match(variants[0]!.text, /# world — the default of `livepath run`/);
  // a key the scenario does not have yet is added in its section
  const [v] = expandVariants(world, worldPath, [parseSetting('overlay.maxFanout=3')]);
  assert.equal(v!.plan.overlay.maxFanout, 3);
  assert.equal(v!.plan.viewers.length, 120);
});

test('a key or value the scenario schema refuses fails before anything runs, naming the --set', () => {
  assert.throws(
    () => expandVariants(world, worldPath, [parseSetting('overlay.originSlot=1')]),
    /--set overlay.originSlot=1: overlay.originSlot: unknown key "originSlot" — fix: did you mean "originSlots"\?/,
  );
  assert.throws(
    () => expandVariants(world, worldPath, [parseSetting('stream.chunkDurationMs=-5')]),
    /--set stream.chunkDurationMs=-5: stream.chunkDurationMs: /,
  );
  assert.throws(
    () => expandVariants(world, worldPath, [parseSetting('durationS.x=1')]),
    /--set durationS.x: durationS is a value, not a section with keys/,
  );
});

const sweep: SweepResult = {
  scenario: 'world',
  seed: 42,
  sets: [{ key: 'overlay.originSlots', values: [1, 8] }],
  variants: [
    {
      name: 'originSlots=1',
      settings: { 'overlay.originSlots': 1 },
      dir: 'originSlots=1',
      cdn: { offload: 0, delayP50Ms: 115, delayP95Ms: 150, lostChunks: 0, from: 'originSlots=1' },
      p2p: { offload: 0.98, delayP50Ms: 160, delayP95Ms: 240, lostChunks: 0, plannerGap: { p50: 1.2, p95: 1.3 } },
      reference: { offload: 0.99, delayP50Ms: 120, delayP95Ms: 190 },
    },
    {
      name: 'originSlots=8',
      settings: { 'overlay.originSlots': 8 },
      dir: 'originSlots=8',
      cdn: { offload: 0, delayP50Ms: 115, delayP95Ms: 150, lostChunks: 0, from: 'originSlots=1' },
      p2p: { offload: 0.92, delayP50Ms: 95, delayP95Ms: 160, lostChunks: 0 },
      reference: { offload: 0.93, delayP50Ms: 85, delayP95Ms: 148, lostChunks: undefined },
    },
  ],
};

test('the sweep chart has a point per variant, path and percentile, labelled by the swept value', () => {
  const points = sweepChartPoints(sweep);
  assert.equal(points.length, 2 * 3 * 2);
  const p2p95 = points.filter((p) => p.series === SWEEP_SERIES.p2p && p.percentile === 'p95');
  assert.deepEqual(
    p2p95.map((p) => [p.variant, p.offload, p.delayMs]),
    [
      ['1', 0.98, 240],
      ['8', 0.92, 160],
    ],
  );
});

test('the sweep page embeds the chart and links every variant to its own report', async () => {
  const html = await buildSweepHtml(sweep, new Date(0));
  assert.equal((html.match(/<svg role="img"/g) ?? []).length, 1);
  assert.ok(html.includes('href="originSlots=8/report.html"'));
  assert.ok(html.includes('the CDN path ran once'), 'says the CDN point is shared');
  assert.ok(html.includes('1.20× / 1.30×'));
  assert.ok(!/<script/.test(html));
});
