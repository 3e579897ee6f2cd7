// The topology export: the one description of a scenario's network that Mininet builds from.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseScenario } from '../../services/core/scenario/load.js';
import { loadScenarioFile } from '../../services/runtime/plan.js';
import { buildPlan } from '../../services/core/scenario/plan.js';
import { exportTopology, ipAt, TopologyExportError } from '../../services/lab/backends/topology.js';

/** The checkout's scenarios/, from the sources (tsx) and from dist/ (npm test) alike. */
function repoRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'scenarios', 'small.yaml'))) dir = dirname(dir);
  return dir;
}
const shipped = (name: string) => {
  const path = join(repoRoot(), 'scenarios', `${name}.yaml`);
  return { path, s: loadScenarioFile(path) };
};

describe('exportTopology (graph)', () => {
  const { path, s } = shipped('small');
  const plan = buildPlan(s);
  const t = exportTopology(s, plan, { scenarioPath: path });

  it('has one host per scenario host with a unique address and its access rates', () => {
    assert.deepEqual(t.hosts.map((h) => h.id).sort(), [...plan.hosts.keys()].sort());
    assert.equal(new Set(t.hosts.map((h) => h.ip)).size, t.hosts.length);
    const v4 = t.hosts.find((h) => h.id === 'v4')!;
    assert.deepEqual(v4.access, { switch: 'access:v4', uplinkBps: 2e6, downlinkBps: 10e6, latencyMs: 0 });
  });

  it('keeps every scenario link between bridges, with its latency and bandwidth', () => {
    assert.equal(t.links.length, s.graph!.links.length);
    assert.deepEqual(
      t.links.find((l) => l.b === 'access:v3'),
      { a: 's1', b: 'access:v3', latencyMs: 15, bandwidthBps: 20e6 },
    );
    const switchIds = new Set(t.switches.map((x) => x.id));
    for (const l of t.links) assert.ok(switchIds.has(l.a) && switchIds.has(l.b), `${l.a}–${l.b} joins bridges`);
  });

  it("names nodes so that no name is part of another node's interface names", () => {
    const names = [...t.hosts, ...t.switches].map((n) => n.name);
    assert.equal(new Set(names).size, names.length);
    for (const a of names)
      for (const b of names) if (a !== b) assert.ok(!`${b}-eth10`.includes(a), `${a} inside ${b}-eth10`);
    assert.ok(names.every((n) => `${n}-eth99`.length <= 15));
  });

  it('lists the services parents first, one viewer per process, the tracker only for p2p', () => {
    assert.deepEqual(
      t.services.map((x) => x.proc),
      ['origin', 'edge1', 'tracker', 'peers-v1', 'peers-v2', 'peers-v3', 'peers-v4'],
    );
    assert.deepEqual(t.services.find((x) => x.role === 'tracker')!.modes, ['p2p']);
  });

  it('synthetic chunks carry real bytes on Mininet unless the scenario asks for virtual ones', () => {
    assert.equal(t.virtualPayload, false, 'stream.payload unset: real bytes for htb to shape');
    const virtual = { ...plan, stream: { ...plan.stream, payload: 'virtual' as const } };
    Object.defineProperties(virtual, {
      latencyMs: { value: plan.latencyMs },
      bottleneckBps: { value: plan.bottleneckBps },
    });
    assert.equal(exportTopology(s, virtual, { scenarioPath: path }).virtualPayload, true);
  });

  it('refuses a graph with a cycle: Linux bridges without STP would loop frames', () => {
    const cyclic = parseScenario(
      `name: loop
durationS: 1
stream: { bitrateBps: 1e6, chunkDurationMs: 250 }
graph:
  nodes:
    - { id: b, role: broadcaster }
    - { id: o, role: origin }
    - { id: e, role: edge }
    - { id: v, role: peer }
  links:
    - { a: b, b: o, latencyMs: 1 }
    - { a: o, b: e, latencyMs: 1 }
    - { a: e, b: v, latencyMs: 1 }
    - { a: v, b: o, latencyMs: 1 }
`,
      'loop.yaml',
    );
    assert.throws(
      () => exportTopology(cyclic, buildPlan(cyclic), { scenarioPath: 'loop.yaml' }),
      (e: Error) => e instanceof TopologyExportError && /cycle/.test(e.message),
    );
  });
});

describe('exportTopology (geo star)', () => {
  const { path, s } = shipped('metro');
  const plan = buildPlan(s);
  const t = exportTopology(s, plan, { scenarioPath: path });
  const access = new Map(t.hosts.map((h) => [h.id, h.access.latencyMs]));

  it('hangs every host off one core bridge', () => {
    assert.deepEqual(
      t.switches.map((x) => x.kind),
      ['core'],
    );
    assert.ok(t.hosts.every((h) => h.access.switch === 'core'));
    assert.equal(t.links.length, 0);
    assert.equal(t.latencyModel, 'star');
  });

  it('is exact for every pair with the origin and never shorter than the scenario elsewhere', () => {
    for (const h of t.hosts) {
      if (h.id === plan.originId) continue;
      assert.ok(
        Math.abs(access.get(h.id)! + access.get(plan.originId)! - plan.latencyMs(h.id, plan.originId)) < 0.002,
        h.id,
      );
    }
    for (const v of plan.viewers)
      assert.ok(access.get(v.edgeId)! + access.get(v.id)! >= plan.latencyMs(v.edgeId, v.id) - 0.002, v.id);
    assert.ok(t.approximation!.cdnHopErrorMs.max >= t.approximation!.cdnHopErrorMs.mean);
  });
});

describe('ipAt', () => {
  it('counts through 10.0.0.0/8 past one octet', () => {
    assert.equal(ipAt(0), '10.0.0.1/8');
    assert.equal(ipAt(255), '10.0.1.0/8');
    assert.equal(ipAt(65535), '10.1.0.0/8');
  });
});
