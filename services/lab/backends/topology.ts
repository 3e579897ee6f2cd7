// `livepath export --format topology`: a scenario's network as plain JSON for Mininet/Containernet
// (containernet/run_scenario.py reads it), so the scenario file stays the one source of truth.
// Owns the mapping scenario → hosts, bridges, links, addresses and the services to start.
import type { Scenario } from '../../core/scenario/schema.js';
import type { Payload, Role, RunPlan } from '../../core/types.js';
import { orderEdges } from './placement.js';

export const TOPOLOGY_FORMAT = 'livepath-topology/1';
/** Namespace-internal addresses: every host sits in one L2 segment of bridges. */
export const TOPOLOGY_IP_BASE = '10.0.0.0/8';

export interface TopologyHost {
  /** scenario id */
  id: string;
  /** Mininet node name: short, because interface names are `<name>-ethN` (≤ 15 characters) */
  name: string;
  role: Role;
  region: string;
  /** address with prefix length, e.g. 10.0.0.3/8 */
  ip: string;
  /** the host's one interface: the access link to `switch` */
  access: { switch: string; uplinkBps: number; downlinkBps: number; latencyMs: number };
}

export interface TopologySwitch {
  /** scenario switch id, `access:<hostId>` for a host's own bridge, or `core` (geo star) */
  id: string;
  name: string;
  kind: 'scenario' | 'access' | 'core';
}

export interface TopologyLink {
  /** switch ids (hosts hang off their access switch, see TopologyHost.access) */
  a: string;
  b: string;
  latencyMs: number;
  bandwidthBps: number;
}

/** One service process to start, in order (parents before children). */
export interface TopologyService {
  proc: string;
  role: 'origin' | 'edge' | 'tracker' | 'peers';
  /** only in these modes (default: all) */
  modes?: Array<'cdn' | 'p2p'>;
  /** host id the process runs on */
  host: string;
  /** livepath CLI arguments of the role (the runner adds --listen, --directory, --mode, --out …) */
  argv: string[];
  /** scenario node ids the process serves (its address goes into the directory under each) */
  nodeIds: string[];
}

export interface Topology {
  format: typeof TOPOLOGY_FORMAT;
  scenario: string;
  scenarioPath: string;
  seed: number;
  kind: RunPlan['kind'];
  durationS: number;
  /** seconds to wait after the last chunk for it to reach every viewer */
  drainS: number;
  ipBase: string;
  /**
   * synthetic chunks with stream.payload `virtual` carry only their size (services/origin/synthetic.ts):
   * no bytes for the kernel to shape, so linkemu shapes them whatever the kernel can do. On Mininet
   * the payload is `real` unless the scenario says otherwise.
   */
  virtualPayload: boolean;
  /** how link latency maps onto the network; see `approximation` */
  latencyModel: 'per-link' | 'star';
  /** what the kernel's latencies (netem only) get wrong, in words and figures */
  approximation?: { note: string; cdnHopErrorMs: { max: number; mean: number } };
  hosts: TopologyHost[];
  switches: TopologySwitch[];
  links: TopologyLink[];
  services: TopologyService[];
}

export class TopologyExportError extends Error {}

export interface ExportOptions {
  scenarioPath: string;
  /** drain after the last chunk, seconds */
  drainS?: number;
}

/**
 * Graph scenarios: one bridge per scenario switch and one per host (its access point), the
 * scenario's links between those bridges, and each host on its own bridge through a link with its
 * access up/downlink. Geo scenarios: a star (see geoStar).
 */
export function exportTopology(scenario: Scenario, plan: RunPlan, o: ExportOptions): Topology {
  const hostIds = [...plan.hosts.keys()];
  const width = Math.max(3, String(hostIds.length + (scenario.graph?.nodes.length ?? 1)).length);
  // Fixed-width names: Mininet's LinuxBridge enslaves every interface whose name *contains* the
  // bridge's name, so "s1" would also grab "s10-eth1".
  const hostName = (i: number) => `h${String(i + 1).padStart(width, '0')}`;
  const switchName = (i: number) => `s${String(i + 1).padStart(width, '0')}`;
  const switches: TopologySwitch[] = [];
  const addSwitch = (id: string, kind: TopologySwitch['kind']) => {
    switches.push({ id, name: switchName(switches.length), kind });
    return id;
  };

  const hosts: TopologyHost[] = [];
  /** Host i with its one access link to `accessSwitch`, `latencyMs` long. */
  const addHost = (id: string, i: number, accessSwitch: string, latencyMs: number) => {
    const h = plan.hosts.get(id)!;
    hosts.push({
      id,
      name: hostName(i),
      role: h.role,
      region: h.region,
      ip: ipAt(i),
      access: { switch: accessSwitch, uplinkBps: h.uplinkBps, downlinkBps: h.downlinkBps, latencyMs },
    });
  };
  const links: TopologyLink[] = [];
  let latencyModel: Topology['latencyModel'] = 'per-link';
  let approximation: Topology['approximation'];
  if (scenario.graph) {
    for (const n of scenario.graph.nodes) if (n.role === 'switch') addSwitch(n.id, 'scenario');
    const bridgeOf = (id: string) => (plan.hosts.has(id) ? `access:${id}` : id);
    for (const [i, id] of hostIds.entries()) addHost(id, i, addSwitch(`access:${id}`, 'access'), 0);
    for (const l of scenario.graph.links)
      links.push({ a: bridgeOf(l.a), b: bridgeOf(l.b), latencyMs: l.latencyMs, bandwidthBps: l.bandwidthBps });
    assertTree(
      scenario.name,
      switches.map((s) => s.id),
      links,
    );
  } else {
    latencyModel = 'star';
    const core = addSwitch('core', 'core');
    const star = geoStar(plan, scenario.geo!.accessLatencyMs.origin);
    for (const [i, id] of hostIds.entries()) addHost(id, i, core, round3(star.accessMs.get(id)!));
    approximation = {
      note:
        "star: each host reaches one core bridge with latency(host, origin) − the origin's access, so every pair with the origin is exact and " +
        'other pairs are over-estimated (great-circle distances do not add up through one centre). Only netem (linkShaping "kernel") uses these ' +
        'latencies; with "delay-only" the services apply the exact per-pair latency and the star carries bandwidth only.',
      cdnHopErrorMs: star.cdnHopErrorMs,
    };
  }

  const services: TopologyService[] = [
    {
      proc: 'origin',
      role: 'origin',
      host: plan.originId,
      argv: ['origin', '--node', plan.originId],
      nodeIds: [plan.originId],
    },
  ];
  for (const e of orderEdges(plan))
    services.push({ proc: e.id, role: 'edge', host: e.id, argv: ['edge', '--node', e.id], nodeIds: [e.id] });
  // The peer path's tracker is no scenario host: it shares the origin's (control traffic only).
  services.push({
    proc: 'tracker',
    role: 'tracker',
    host: plan.originId,
    argv: ['tracker'],
    nodeIds: [],
    modes: ['p2p'],
  });
  // One viewer per host and per process: each viewer's access link is shaped on its own.
  for (const v of plan.viewers)
    services.push({
      proc: `peers-${v.id}`,
      role: 'peers',
      host: v.id,
      argv: ['peers', '--viewers', v.id],
      nodeIds: [v.id],
    });

  const maxBoundMs = Math.max(0, ...plan.viewers.map((v) => v.boundMs));
  return {
    format: TOPOLOGY_FORMAT,
    scenario: plan.scenarioName,
    scenarioPath: o.scenarioPath,
    seed: plan.seed,
    kind: plan.kind,
    durationS: plan.durationS,
    drainS: o.drainS ?? round3(1.5 + (3 * maxBoundMs) / 1000),
    ipBase: TOPOLOGY_IP_BASE,
    virtualPayload: (plan.stream.source?.kind ?? 'synthetic') === 'synthetic' && mininetPayload(plan) === 'virtual',
    latencyModel,
    ...(approximation ? { approximation } : {}),
    hosts,
    switches,
    links,
    services,
  };
}

/** What synthetic chunks carry on Mininet: the scenario's stream.payload, else real bytes for htb to shape. */
export function mininetPayload(plan: RunPlan): Payload {
  return plan.stream.payload ?? 'real';
}

/** 10.0.0.1/8, 10.0.0.2/8, … 10.0.1.0/8 … : host i gets the (i+1)-th address of 10.0.0.0/8. */
export function ipAt(i: number): string {
  const n = i + 1;
  if (n >= 2 ** 24 - 1) throw new TopologyExportError(`too many hosts for ${TOPOLOGY_IP_BASE}`);
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}/8`;
}

/**
 * A star for geo scenarios: host h's link to the core has latency L(h, origin) − a(origin), the
 * origin's own link a(origin) (its access latency, the part of L that is the origin's). Pairs with
 * the origin are exact; a pair (x, y) gets L(x, o) + L(o, y) − 2a(o) ≥ L(x, y). The error is
 * reported for the CDN hops (origin → edge exact; edge → viewer over-estimated).
 */
export function geoStar(
  plan: RunPlan,
  originAccessMs: number,
): { accessMs: Map<string, number>; cdnHopErrorMs: { max: number; mean: number } } {
  const o = plan.originId;
  const accessMs = new Map<string, number>([[o, originAccessMs]]);
  for (const id of plan.hosts.keys())
    if (id !== o) accessMs.set(id, Math.max(0, plan.latencyMs(id, o) - originAccessMs));
  const errors = plan.viewers.map(
    (v) => accessMs.get(v.edgeId)! + accessMs.get(v.id)! - plan.latencyMs(v.edgeId, v.id),
  );
  return {
    accessMs,
    cdnHopErrorMs: {
      max: round3(Math.max(0, ...errors)),
      mean: round3(errors.length ? errors.reduce((a, b) => a + b, 0) / errors.length : 0),
    },
  };
}

/**
 * The bridges form one L2 segment without spanning tree, so the graph of bridges must be a tree:
 * a cycle would loop broadcast frames forever.
 */
function assertTree(scenarioName: string, nodes: string[], links: TopologyLink[]): void {
  const parent = new Map(nodes.map((n) => [n, n]));
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  for (const l of links) {
    const ra = find(l.a);
    const rb = find(l.b);
    if (ra === rb) {
      throw new TopologyExportError(
        `scenario "${scenarioName}": link ${l.a.replace('access:', '')}–${l.b.replace('access:', '')} closes a cycle; the Mininet topology is one ` +
          'L2 segment of Linux bridges without spanning tree and needs a tree-shaped graph — fix: remove one link of the cycle',
      );
    }
    parent.set(ra, rb);
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
