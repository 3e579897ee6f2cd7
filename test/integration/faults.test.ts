// Components killed on purpose (scenario `faults:`): an edge SIGKILLed mid-run, its viewers fail
// over to the next nearest edge and lose nothing; the tracker SIGKILLed and restarted, the peers
// keep streaming from their parents, join again, and lose nothing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isStall } from '../../services/results/chunks.js';
import { readChunks, readJson, runCli, tempDir, writeScenario } from '../helpers/cli.js';

// Four viewers behind a switch, two edges: edge1 is nearer, edge2 the next nearest.
const twoEdges = (name: string, faults: string, overlay = '') => `
name: ${name}
seed: 4
durationS: 8
stream: { bitrateBps: 2e6, chunkDurationMs: 250 }
graph:
  nodes:
    - { id: b, role: broadcaster }
    - { id: origin, role: origin, uplinkBps: 1e9 }
    - { id: edge1, role: edge, uplinkBps: 1e9 }
    - { id: edge2, role: edge, uplinkBps: 1e9 }
    - { id: s1, role: switch }
${[1, 2, 3, 4].map((i) => `    - { id: v${i}, role: peer, uplinkBps: 20e6, downlinkBps: 50e6 }`).join('\n')}
  links:
    - { a: b, b: origin, latencyMs: 1 }
    - { a: origin, b: edge1, latencyMs: 5 }
    - { a: origin, b: edge2, latencyMs: 5 }
    - { a: edge1, b: s1, latencyMs: 5 }
    - { a: edge2, b: s1, latencyMs: 15 }
${[1, 2, 3, 4].map((i) => `    - { a: s1, b: v${i}, latencyMs: ${i} }`).join('\n')}
${overlay}
faults:
${faults}`;

test('an edge killed mid-run: its viewers fail over to the next nearest edge, nothing lost, no stall', async () => {
  const dir = tempDir('fault-edge');
  const out = join(dir, 'run');
  const scenario = twoEdges('fault-edge', '  - { kind: kill-edge, atS: 3, edge: edge1 }');
  const r = await runCli(['run', writeScenario(dir, 'fault-edge', scenario), '--mode', 'cdn', '--out', out, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const summary = readJson(join(out, 'summary.json'));
  assert.equal(summary.lostChunks, 0);
  const rows = readChunks(out);
  const events = readFileSync(join(out, 'events.csv'), 'utf8');
  assert.match(events, /,fault,,kill-edge edge1/);
  for (const v of ['v1', 'v2', 'v3', 'v4']) {
    const mine = rows.filter((x) => x.viewer === v);
    assert.ok(mine.some((x) => x.parent === 'edge1') && mine.some((x) => x.parent === 'edge2'), `${v} moved`);
    assert.deepEqual(
      mine.filter((x) => isStall(x.delayMs)).map((x) => x.seq),
      [],
      `${v} stalled`,
    );
  }
});

test('the tracker killed and restarted: peers keep streaming, join again, nothing lost, no stall', async () => {
  const dir = tempDir('fault-tracker');
  const out = join(dir, 'run');
  const scenario = twoEdges(
    'fault-tracker',
    '  - { kind: restart-tracker, atS: 3, downS: 1 }',
    'overlay: { originSlots: 1, edgeSlots: 0, maxFanout: 2 }',
  );
  const r = await runCli([
    'run',
    writeScenario(dir, 'fault-tracker', scenario),
    '--mode',
    'p2p',
    '--out',
    out,
    '--quiet',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const summary = readJson(join(out, 'summary.json'));
  assert.equal(summary.lostChunks, 0);
  const events = readFileSync(join(out, 'events.csv'), 'utf8');
  assert.match(events, /,fault,,restart-tracker tracker/);
  assert.match(events, /,fault,,restarted tracker/);
  assert.match(events, /,join-retry,/, 'the peers noticed and joined again');
  const rows = readChunks(out);
  assert.deepEqual(
    rows.filter((x) => isStall(x.delayMs)).map((x) => `${x.viewer}/${x.seq}`),
    [],
  );
  assert.ok(
    rows.some((x) => x.path === 'peer'),
    'the peer path carried chunks',
  );
});
