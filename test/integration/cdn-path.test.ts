// The foundation, end to end: a broadcast through origin → edge → viewers on loopback, each
// viewer's measured delay against the latency of its path, no chunk lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertNoChunkBelowBound,
  median,
  readChunks,
  readJson,
  runCli,
  smallScenario,
  tempDir,
  writeScenario,
} from '../helpers/cli.js';
import { loadPlan } from '../../services/runtime/plan.js';
import { ROOT } from '../helpers/cli.js';

for (const production of ['progressive', 'segment'] as const) {
  test(`CDN path on the small graph, ${production} production: every viewer at its path latency + one release unit, nothing lost`, async () => {
    const dir = tempDir('cdn');
    const out = join(dir, 'run');
    // small.yaml as shipped is frame-paced; the segment variant hands whole chunks over
    const scenario =
      production === 'progressive'
        ? join(ROOT, 'scenarios', 'small.yaml')
        : writeScenario(
            dir,
            'small-segment',
            smallScenario('small-segment', { stream: { bitrateBps: 2e6, chunkDurationMs: 250, production } }),
          );
    const r = await runCli(['run', scenario, '--mode', 'cdn', '--out', out, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /cdn mode/);
    for (const f of ['chunks.csv', 'summary.json', 'plan.json', 'events.csv', 'overlay.json', 'report.html'])
      assert.ok(existsSync(join(out, f)), `${f} written`);
    assertNoChunkBelowBound(out);

    const summary = readJson(join(out, 'summary.json'));
    const plan = loadPlan(scenario);
    assert.equal(plan.stream.production, production);
    const chunksPerViewer = Math.floor((plan.durationS * 1e6) / plan.stream.chunkDurationUs);
    assert.equal(summary.lostChunks, 0);
    assert.equal(summary.viewers, plan.viewers.length);
    assert.equal(summary.offload, 0, 'the CDN path delivers everything');
    assert.ok(summary.fragmentDelayMs.all.count >= summary.chunks, 'per-fragment delays recorded');
    const rows = readChunks(out);
    assert.equal(
      rows.length,
      plan.viewers.length * chunksPerViewer,
      'every viewer present from the start gets every chunk',
    );

    // On this graph the CDN path is each viewer's shortest path, so the model's delay of a chunk is
    // the path's latency plus its last release unit (with framing) through the bottleneck: the
    // bound itself, plus framing. Segment: the whole chunk; progressive: its last frame.
    const errorP99 = summary.emulationErrorMs.p99 as number;
    const unit = plan.stream.releaseUnitBytes;
    const framing = Math.ceil(unit / plan.stream.fragmentBytes) * 64;
    for (const v of plan.viewers) {
      const path =
        plan.latencyMs(plan.broadcasterId, plan.originId) +
        plan.latencyMs(plan.originId, v.edgeId) +
        plan.latencyMs(v.edgeId, v.id);
      assert.ok(Math.abs(path - v.boundPropagationMs) < 1e-9, `${v.id}: CDN path is the shortest path`);
      const expected = path + (((unit + framing) * 8) / plan.bottleneckBps(plan.broadcasterId, v.id)) * 1000;
      const measured = median(rows.filter((x) => x.viewer === v.id).map((x) => x.delayMs));
      assert.ok(
        measured >= expected - 0.5,
        `${v.id}: ${measured} ms is not below the model's ${expected.toFixed(2)} ms`,
      );
      // What the bound leaves out: the edge serves each release unit to its children one after
      // another (up to n − 1 unit-times of waiting on its 1 Gbit/s uplink) and each relay hop
      // stores one fragment.
      const coreMs = (bytes: number) => ((bytes * 8) / plan.hosts.get(v.edgeId)!.uplinkBps) * 1000;
      const allowance = (plan.viewers.length - 1) * coreMs(unit + framing) + 2 * coreMs(plan.stream.fragmentBytes + 64);
      assert.ok(
        measured <= expected + allowance + errorP99 + 0.2,
        `${v.id}: ${measured} ms within ${expected.toFixed(2)} + ${allowance.toFixed(2)} (queueing) + ${errorP99} ms (emulation error p99) + 0.2 ms`,
      );
      assert.ok(
        rows.filter((x) => x.viewer === v.id).every((x) => x.path === 'cdn' && x.hops === 2 && x.parent === v.edgeId),
      );
    }
  });
}

test('bad input: a one-line error naming what to fix, and no stack trace', async () => {
  const dir = tempDir('bad');
  const bad = join(dir, 'bad.yaml');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    bad,
    'name: bad\ndurationS: 5\nstream: { bitrateBps: 1e6, chunkDurationMs: 250 }\ngeo:\n  origin: { id: origin, lat: 123, lon: 0 }\n  edges: []\n  viewers: { clusters: [] }\n',
  );
  const r1 = await runCli(['validate', bad]);
  assert.equal(r1.code, 2);
  assert.match(r1.stderr, /bad\.yaml:5: geo\.origin\.lat/);
  assert.doesNotMatch(r1.stderr, /\n\s+at /, 'no stack trace');

  const r2 = await runCli(['run', '--mode', 'sideways']);
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /--mode.*sideways|sideways.*--mode/);

  const r3 = await runCli(['run', 'no-such-scenario']);
  assert.equal(r3.code, 2);
  assert.match(r3.stderr, /scenario "no-such-scenario" not found/);

  // a port already taken
  const net = await import('node:net');
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  const r4 = await runCli(['origin', '--scenario', 'small', '--listen', `127.0.0.1:${port}`]);
  server.close();
  assert.equal(r4.code, 2);
  assert.match(r4.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`));
  assert.equal(r4.stderr.trim().split('\n').length, 1, r4.stderr);
});
