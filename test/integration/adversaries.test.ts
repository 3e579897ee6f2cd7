// Adversarial peers end to end on loopback (scenario `adversaries:`): tampered and replayed
// fragments are refused by signature before anyone stores, forwards or plays them, and the
// tracker bans their sender; withholding and trickling parents are detected from delivery and
// their children re-parented, the deadline fallback covering them meanwhile.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isStall } from '../../services/results/chunks.js';
import { readChunks, readJson, runCli, tempDir, writeScenario } from '../helpers/cli.js';
import { chainScenario } from '../../bench/trust.js';

// Six viewers in a chain (fan-out 1): every viewer but the last has a child an adversary can wrong.
// The bench's trust section runs the same scenario.
const chain = chainScenario;

interface Viewer {
  id: string;
  adversary?: { kind: string };
}

/** Rows of honest viewers, and the production time each seq has at the origin (any honest row). */
function honestRows(out: string) {
  const plan = readJson(join(out, 'plan.json'));
  const bad = new Set((plan.viewers as Viewer[]).filter((v) => v.adversary).map((v) => v.id));
  const rows = readChunks(out).filter((r) => !bad.has(r.viewer));
  return { plan, bad, rows };
}

test('tampered and replayed fragments: all refused, none played, the sender banned', async () => {
  const dir = tempDir('adv-sig');
  const out = join(dir, 'run');
  // The replayer sends chunks 42 chunk-times (10.5 s) old, so it turns at 12 s.
  const scenario = chain(
    'adv-sig',
    16,
    `  - { kind: tamper, atS: 3, viewers: [v1, v2] }
  - { kind: replay, atS: 12, viewers: [v3, v4] }`,
  );
  const r = await runCli(['run', writeScenario(dir, 'adv-sig', scenario), '--mode', 'p2p', '--out', out, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const summary = readJson(join(out, 'summary.json'));
  const { rows, bad } = honestRows(out);
  assert.equal(bad.size, 4);
  const { adversaries, rejected } = summary.integrity;
  assert.ok(adversaries.tampered > 0, `the tamperers sent something: ${JSON.stringify(summary.integrity)}`);
  assert.ok(rejected.signature > 0, JSON.stringify(summary.integrity));
  // Every chunk any viewer played is the origin's: one production time per seq across all rows
  // (a tampered virtual fragment claims another), and no viewer played a seq twice (a replay would).
  const all = readChunks(out);
  const producedAt = new Map<number, number>();
  for (const row of all) {
    const first = producedAt.get(row.seq) ?? row.producedAtUs;
    producedAt.set(row.seq, first);
    assert.equal(row.producedAtUs, first, `${row.viewer} played a forged seq ${row.seq}`);
  }
  const seen = new Set(all.map((x) => `${x.viewer}/${x.seq}`));
  assert.equal(seen.size, all.length, 'no chunk played twice');
  const events = readFileSync(join(out, 'events.csv'), 'utf8');
  assert.match(events, /,rejected,v\d+,v\d+: signature/);
  // The honest viewers lost nothing: the tracker moved them away from the tamperers.
  const honestIds = new Set(rows.map((x) => x.viewer));
  assert.ok(honestIds.size >= 1);
  assert.equal(summary.lostChunks, 0, 'no chunk lost (the deadline fallback covers a cut-off stream)');
  if (adversaries.replayed > 0) assert.ok(rejected.replay > 0, JSON.stringify(summary.integrity));
});

test('withholding and trickling parents: children re-parented, no honest viewer stalls', async () => {
  const dir = tempDir('adv-delivery');
  const out = join(dir, 'run');
  const scenario = chain(
    'adv-delivery',
    10,
    `  - { kind: withhold, atS: 3, viewers: [v1] }
  - { kind: trickle, atS: 3, viewers: [v2] }`,
  );
  const r = await runCli([
    'run',
    writeScenario(dir, 'adv-delivery', scenario),
    '--mode',
    'p2p',
    '--out',
    out,
    '--quiet',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const summary = readJson(join(out, 'summary.json'));
  const { adversaries } = summary.integrity;
  assert.ok(adversaries.withheld + adversaries.trickled > 0, JSON.stringify(summary.integrity));
  const events = readFileSync(join(out, 'events.csv'), 'utf8');
  assert.match(events, /,rejected,v\d+,v[12]: (withhold|trickle)/);
  assert.equal(summary.lostChunks, 0);
  // Stalls of honest viewers: a chunk later than the playout deadline or missing.
  const { rows } = honestRows(out);
  const stalled = new Set(rows.filter((x) => isStall(x.delayMs)).map((x) => x.viewer));
  const honest = new Set(rows.map((x) => x.viewer));
  assert.ok(
    honest.size - stalled.size >= Math.ceil(0.95 * honest.size),
    `${stalled.size} of ${honest.size} honest viewers stalled`,
  );
});
