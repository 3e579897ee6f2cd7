// `livepath sweep` end to end: one experiment per value, the CDN path once (an overlay key does
// not change it), sweep.json with a point per variant and path, and the sweep's report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, runCli, smallScenario, tempDir, writeScenario } from '../helpers/cli.js';

test('sweep runs each value of overlay.originSlots and charts offload against delay for both paths', async () => {
  const dir = tempDir('sweep');
  const scenario = writeScenario(dir, 'tiny', smallScenario('tiny', { durationS: 4 }));
  const out = join(dir, 'sweep');
  const r = await runCli(['sweep', scenario, '--set', 'overlay.originSlots=0,2', '--out', out], { timeoutMs: 240_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /sweep \[1\/2\] originSlots=0 \(cdn \+ p2p\)/);
  assert.match(r.stderr, /sweep \[2\/2\] originSlots=2 \(p2p\)/, 'the CDN path runs once');
  const sweep = readJson(join(out, 'sweep.json'));
  assert.deepEqual(
    sweep.variants.map((v: { name: string }) => v.name),
    ['originSlots=0', 'originSlots=2'],
  );
  for (const v of sweep.variants) {
    assert.equal(v.cdn.offload, 0);
    assert.equal(v.cdn.from, 'originSlots=0');
    assert.ok(v.p2p.delayP50Ms > 0 && v.reference.delayP50Ms > 0, JSON.stringify(v));
    assert.equal(v.p2p.lostChunks, 0);
    assert.ok(existsSync(join(out, v.dir, 'scenario.yaml')));
    assert.ok(existsSync(join(out, v.dir, 'report.html')));
  }
  // with no origin slot every viewer but the one the CDN must serve hangs below a peer
  assert.ok(sweep.variants[0].reference.offload > sweep.variants[1].reference.offload, JSON.stringify(sweep.variants));
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.equal((html.match(/<svg role="img"/g) ?? []).length, 1);
  // re-rendered by `livepath report` like any results directory
  const again = await runCli(['report', out]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.trim(), join(out, 'report.html'));
});

test('sweep refuses a key the scenario does not have, before running anything', async () => {
  const dir = tempDir('sweep-bad');
  const r = await runCli(['sweep', 'small', '--set', 'overlay.originSlot=1,2', '--out', join(dir, 'x')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^livepath: --set overlay.originSlot=1: overlay.originSlot: unknown key/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.equal(existsSync(join(dir, 'x')), false);
});
