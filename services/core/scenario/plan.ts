// From a validated Scenario and a seed to the RunPlan every process shares: hosts with their
// links' capacities, viewer placement and CDN edge, each viewer's bound, and the churn schedule.
// Deterministic: same scenario + same seed ⇒ deep-equal plan; randomness only via Prng.

import {
  CHURN_TIME_RESOLUTION_S,
  DEFAULT_BROADCASTER_ID,
  DEFAULT_GRAPH_REGION,
  LATENCY_TIE_RELATIVE_EPSILON,
  UNCONSTRAINED_BPS,
} from '../constants.js';
import { greatCircleKm, randomPointInDisc, type LatLon } from '../geo.js';
import { Graph, type ShortestPathTree } from '../graph.js';
import { serializationMs } from '../linkmodel.js';
import { Prng } from '../prng.js';
import type {
  AdversaryKind,
  ChurnEvent,
  EdgePlan,
  FaultPlan,
  HostPlan,
  RunPlan,
  StreamPlan,
  ViewerPlan,
} from '../types.js';
import { orderedJoins, type GeoSection, type GraphSection, type Scenario } from './schema.js';

/** Thrown when latencyMs/bottleneckBps is asked about an id that is not a host of the plan. */
export class UnknownHostError extends Error {
  override readonly name = 'UnknownHostError';
  constructor(
    readonly hostId: string,
    scenarioName: string,
  ) {
    super(
      `scenario "${scenarioName}" has no host "${hostId}" — use the id of its broadcaster, origin, an edge or a viewer (switches are not hosts)`,
    );
  }
}

export interface BuildPlanOptions {
  /** overrides the scenario's seed (e.g. `livepath run --seed 7`) */
  seed?: number;
}

/**
 * The run plan of a scenario. latencyMs and bottleneckBps are non-enumerable properties, so two
 * plans of the same scenario and seed compare deep-equal; copy them explicitly if you spread a plan.
 */
export function buildPlan(scenario: Scenario, opts: BuildPlanOptions = {}): RunPlan {
  const seed = opts.seed ?? scenario.seed;
  const network =
    scenario.geo !== undefined ? geoNetwork(scenario, scenario.geo, seed) : graphNetwork(scenario, scenario.graph!);
  const stream = streamPlan(scenario);
  const { hosts, broadcasterId } = network;

  const joinAtS = arrivalTimes(scenario, network, seed);
  const departures = expandChurn(scenario, network, joinAtS, seed);
  const adversaries = chooseAdversaries(scenario, network, joinAtS, departures.byViewer, seed);

  const viewers: ViewerPlan[] = network.viewerIds.map((id) => {
    const boundPropagationMs = network.latencyMs(broadcasterId, id);
    const bottleneckBps = network.bottleneckBps(broadcasterId, id);
    const boundSerializationMs = serializationMs(stream.releaseUnitBytes, bottleneckBps);
    const viewer: ViewerPlan = {
      id,
      edgeId: nearestEdge(id, network),
      boundMs: boundPropagationMs + boundSerializationMs,
      boundPropagationMs,
      boundSerializationMs,
      bottleneckBps,
      joinAtS: joinAtS.get(id) ?? 0,
    };
    const departure = departures.byViewer.get(id);
    if (departure !== undefined) {
      viewer.leaveAtS = departure.atS;
      viewer.leaveKind = departure.kind === 'kill' ? 'kill' : 'graceful';
    }
    const adversary = adversaries.get(id);
    if (adversary !== undefined) viewer.adversary = adversary;
    return viewer;
  });

  const plan = {
    scenarioName: scenario.name,
    seed,
    kind: network.kind,
    durationS: scenario.durationS,
    stream,
    broadcasterId,
    originId: network.originId,
    hosts,
    edges: network.edges,
    viewers,
    churn: departures.events,
    faults: planFaults(scenario, network),
    overlay: { ...scenario.overlay },
  };
  // Non-enumerable so deepStrictEqual compares the plan's data, not two distinct closures.
  Object.defineProperties(plan, {
    latencyMs: { value: network.latencyMs, enumerable: false },
    bottleneckBps: { value: network.bottleneckBps, enumerable: false },
  });
  return plan as typeof plan & Pick<RunPlan, 'latencyMs' | 'bottleneckBps'>;
}

/**
 * The bound of one chunk whose last release unit had `releaseBytes` bytes: they could not leave
 * the broadcaster before the chunk's last byte was made, and must all cross the path's bottleneck
 * after that, on top of the path's propagation. No delivery scheme can beat it.
 */
export function chunkBoundMs(viewer: Pick<ViewerPlan, 'boundPropagationMs' | 'bottleneckBps'>, releaseBytes: number) {
  return viewer.boundPropagationMs + serializationMs(releaseBytes, viewer.bottleneckBps);
}

function streamPlan(scenario: Scenario): StreamPlan {
  const {
    bitrateBps,
    chunkDurationMs,
    keyframeIntervalChunks,
    fragmentBytes,
    production,
    frameRate,
    pacing,
    source,
    payload,
  } = scenario.stream;
  const chunkBytes = Math.round((bitrateBps * chunkDurationMs) / 1000 / 8);
  // Frame pacing: the frames that fall in a chunk, at least one; fragment pacing: its fragments.
  const releasesPerChunk =
    production === 'segment'
      ? 1
      : pacing === 'frame'
        ? Math.max(1, Math.round((chunkDurationMs / 1000) * frameRate))
        : Math.max(1, Math.ceil(chunkBytes / fragmentBytes));
  return {
    streamId: scenario.name,
    bitrateBps,
    chunkDurationUs: Math.round(chunkDurationMs * 1000),
    chunkBytes,
    keyframeIntervalChunks,
    fragmentBytes,
    production,
    frameRate,
    pacing,
    releasesPerChunk,
    releaseUnitBytes: Math.ceil(chunkBytes / releasesPerChunk),
    // Only when the scenario names one: plans of synthetic scenarios stay as they were.
    ...(source !== undefined && { source }),
    ...(payload !== undefined && { payload }),
  };
}

// ---- the network: hosts, latency and bottleneck --------------------------------------------------

interface Network {
  kind: 'geo' | 'graph';
  hosts: Map<string, HostPlan>;
  broadcasterId: string;
  originId: string;
  edges: EdgePlan[];
  /** viewers in plan order; joinedLater are those created or delayed by churn `join` events */
  viewerIds: string[];
  /** viewer id → the join event that brings it in (geo: created by it; graph: named in it) */
  joinedBy: Map<string, { atS: number; eventIndex: number }>;
  latencyMs(a: string, b: string): number;
  bottleneckBps(a: string, b: string): number;
}

function geoNetwork(scenario: Scenario, geo: GeoSection, seed: number): Network {
  const hosts = new Map<string, HostPlan>();
  const access = new Map<string, { place: LatLon; accessMs: number }>();
  const add = (host: HostPlan & LatLon, accessMs: number) => {
    hosts.set(host.id, host);
    access.set(host.id, { place: { lat: host.lat, lon: host.lon }, accessMs });
  };

  const { origin } = geo;
  const b = geo.broadcaster;
  add(
    {
      id: b?.id ?? DEFAULT_BROADCASTER_ID,
      role: 'broadcaster',
      region: b?.region ?? 'broadcaster',
      lat: b?.lat ?? origin.lat,
      lon: b?.lon ?? origin.lon,
      uplinkBps: b?.uplinkBps ?? UNCONSTRAINED_BPS,
      downlinkBps: b?.downlinkBps ?? UNCONSTRAINED_BPS,
    },
    geo.accessLatencyMs.broadcaster,
  );
  // A server (origin, edge) is its own region unless named, and its downlink is its uplink unless given.
  const server = (node: GeoSection['origin'] | GeoSection['edges'][number], role: 'origin' | 'edge') => ({
    id: node.id,
    role,
    region: node.region ?? node.id,
    lat: node.lat,
    lon: node.lon,
    uplinkBps: node.uplinkBps,
    downlinkBps: node.downlinkBps ?? node.uplinkBps,
  });
  add(server(origin, 'origin'), geo.accessLatencyMs.origin);
  for (const edge of geo.edges) add(server(edge, 'edge'), geo.accessLatencyMs.edge);

  // Viewers: the initial ones of every cluster, then those created by join events in time order;
  // each cluster draws its places from its own stream so clusters do not shift each other.
  const viewerIds: string[] = [];
  const joinedBy = new Map<string, { atS: number; eventIndex: number }>();
  const clusterState = new Map(
    geo.viewers.clusters.map((c) => [c.name, { cluster: c, prng: Prng.derive(seed, `place:${c.name}`), n: 0 }]),
  );
  const addViewer = (clusterName: string) => {
    const state = clusterState.get(clusterName)!;
    const { cluster } = state;
    state.n += 1;
    const id = `${cluster.name}-${state.n}`;
    const place = randomPointInDisc(state.prng, cluster, cluster.radiusKm);
    add(
      {
        id,
        role: 'peer',
        region: cluster.name,
        lat: place.lat,
        lon: place.lon,
        uplinkBps: cluster.uplinkBps ?? geo.viewers.uplinkBps,
        downlinkBps: cluster.downlinkBps ?? geo.viewers.downlinkBps,
      },
      geo.accessLatencyMs.peer,
    );
    viewerIds.push(id);
    return id;
  };
  for (const cluster of geo.viewers.clusters) {
    for (let k = 0; k < cluster.count; k++) addViewer(cluster.name);
  }
  const joins = orderedJoins(scenario.churn.map((e, eventIndex) => ({ ...e, eventIndex })));
  for (const event of joins) {
    if (event.kind !== 'join' || event.cluster === undefined || event.count === undefined) continue;
    for (let k = 0; k < event.count; k++) {
      joinedBy.set(addViewer(event.cluster), { atS: event.atS, eventIndex: event.eventIndex });
    }
  }

  const scenarioName = scenario.name;
  const { fiberKmPerMs, pathInflation } = geo;
  const placeOf = (id: string) => {
    const p = access.get(id);
    if (p === undefined) throw new UnknownHostError(id, scenarioName);
    return p;
  };
  const hostOf = (id: string) => {
    const h = hosts.get(id);
    if (h === undefined) throw new UnknownHostError(id, scenarioName);
    return h;
  };
  return {
    kind: 'geo',
    hosts,
    broadcasterId: b?.id ?? DEFAULT_BROADCASTER_ID,
    originId: origin.id,
    edges: geo.edges.map((e) => ({ id: e.id, parentId: e.parent ?? origin.id })),
    viewerIds,
    joinedBy,
    // On demand from the formula: a matrix would be n² for 10^5 viewers.
    latencyMs(a, b) {
      const pa = placeOf(a);
      const pb = placeOf(b);
      if (a === b) return 0;
      return (greatCircleKm(pa.place, pb.place) / fiberKmPerMs) * pathInflation + pa.accessMs + pb.accessMs;
    },
    // The geo path is a single abstract hop: only the two ends' access links can be narrow.
    bottleneckBps(a, b) {
      return Math.min(hostOf(a).uplinkBps, hostOf(b).downlinkBps);
    },
  };
}

function graphNetwork(scenario: Scenario, graph: GraphSection): Network {
  // A host without explicit rates gets the largest of its links: its NIC is at least that fast.
  const widestLinkBps = new Map<string, number>();
  for (const link of graph.links) {
    for (const end of [link.a, link.b]) {
      widestLinkBps.set(end, Math.max(widestLinkBps.get(end) ?? 0, link.bandwidthBps));
    }
  }
  const hosts = new Map<string, HostPlan>();
  const g = new Graph();
  for (const node of graph.nodes) {
    if (node.role === 'switch') {
      g.addNode(node.id);
      continue;
    }
    const fallbackBps = widestLinkBps.get(node.id) ?? UNCONSTRAINED_BPS;
    const host: HostPlan = {
      id: node.id,
      role: node.role,
      region: node.region ?? DEFAULT_GRAPH_REGION,
      uplinkBps: node.uplinkBps ?? fallbackBps,
      downlinkBps: node.downlinkBps ?? fallbackBps,
    };
    if (node.lat !== undefined) host.lat = node.lat;
    if (node.lon !== undefined) host.lon = node.lon;
    hosts.set(node.id, host);
    // A relaying host forwards at most what it can both receive and send.
    g.addNode(node.id, Math.min(host.uplinkBps, host.downlinkBps));
  }
  for (const link of graph.links) g.addLink(link.a, link.b, link.latencyMs, link.bandwidthBps);

  const byRole = (role: HostPlan['role']) => graph.nodes.filter((n) => n.role === role).map((n) => n.id);
  const originId = byRole('origin')[0]!;
  const joinedBy = new Map<string, { atS: number; eventIndex: number }>();
  scenario.churn.forEach((event, eventIndex) => {
    if (event.kind !== 'join') return;
    for (const id of event.viewers ?? []) joinedBy.set(id, { atS: event.atS, eventIndex });
  });

  // One Dijkstra per source, on first use: O(1) lookups afterwards, and only the rows actually
  // asked for are ever held (bounds need the broadcaster's and the edges' rows only).
  const trees = new Map<number, ShortestPathTree>();
  const scenarioName = scenario.name;
  const hostIndex = (id: string): number => {
    const i = hosts.has(id) ? g.indexOf(id) : undefined;
    if (i === undefined) throw new UnknownHostError(id, scenarioName);
    return i;
  };
  // Always read the path from the lower-index end, so a→b and b→a are the same route and the
  // same float sum: latencyMs is then exactly symmetric.
  const treeFor = (ia: number, ib: number): [ShortestPathTree, number] => {
    const [from, to] = ia <= ib ? [ia, ib] : [ib, ia];
    let tree = trees.get(from);
    if (tree === undefined) {
      tree = g.shortestPaths(g.idAt(from));
      trees.set(from, tree);
    }
    return [tree, to];
  };
  return {
    kind: 'graph',
    hosts,
    broadcasterId: byRole('broadcaster')[0]!,
    originId,
    edges: byRole('edge').map((id) => ({ id, parentId: graph.edgeParents?.[id] ?? originId })),
    viewerIds: byRole('peer'),
    joinedBy,
    latencyMs(a, b) {
      const [tree, to] = treeFor(hostIndex(a), hostIndex(b));
      return tree.distanceMs[to]!;
    },
    bottleneckBps(a, b) {
      const [tree, to] = treeFor(hostIndex(a), hostIndex(b));
      return Math.min(hosts.get(a)!.uplinkBps, hosts.get(b)!.downlinkBps, tree.widthBps[to]!);
    },
  };
}

/** The edge with the lowest latency to the viewer; ties go to the lowest id. */
function nearestEdge(viewerId: string, network: Network): string {
  let best: { id: string; latencyMs: number } | undefined;
  for (const edge of network.edges) {
    const latencyMs = network.latencyMs(edge.id, viewerId);
    if (best === undefined) {
      best = { id: edge.id, latencyMs };
      continue;
    }
    const tie = Math.abs(latencyMs - best.latencyMs) <= LATENCY_TIE_RELATIVE_EPSILON * Math.max(1, latencyMs);
    if ((!tie && latencyMs < best.latencyMs) || (tie && edge.id < best.id)) best = { id: edge.id, latencyMs };
  }
  return best!.id;
}

// ---- arrivals and churn ------------------------------------------------------------------------

function floorToResolution(s: number): number {
  return Math.floor(s / CHURN_TIME_RESOLUTION_S) * CHURN_TIME_RESOLUTION_S;
}

/**
 * Join time of every viewer: viewers brought in by a join event join at its atS; the others
 * uniformly over [0, spreadS), drawn in viewer order from the "arrivals" stream.
 */
function arrivalTimes(scenario: Scenario, network: Network, seed: number): Map<string, number> {
  const prng = Prng.derive(seed, 'arrivals');
  const { spreadS } = scenario.arrivals;
  const joinAtS = new Map<string, number>();
  for (const id of network.viewerIds) {
    const joined = network.joinedBy.get(id);
    if (joined !== undefined) joinAtS.set(id, joined.atS);
    // Rounded to ms; Number(toFixed) keeps 0.123 from printing as 0.12300000000000001.
    else joinAtS.set(id, spreadS > 0 ? Number(floorToResolution(prng.next() * spreadS).toFixed(6)) : 0);
  }
  return joinAtS;
}

/**
 * The adversaries of the scenario: named viewers, or a seeded draw among viewers present at atS
 * that stay to the end (an adversary that leaves proves nothing) and are not adversaries already.
 */
function chooseAdversaries(
  scenario: Scenario,
  network: Network,
  joinAtS: Map<string, number>,
  departing: Map<string, unknown>,
  seed: number,
): Map<string, { kind: AdversaryKind; atS: number }> {
  const prng = Prng.derive(seed, 'adversaries');
  const chosen = new Map<string, { kind: AdversaryKind; atS: number }>();
  for (const a of scenario.adversaries) {
    let ids: string[];
    if (a.viewers !== undefined) ids = a.viewers.filter((id) => !chosen.has(id));
    else {
      const eligible = network.viewerIds.filter(
        (id) => !chosen.has(id) && !departing.has(id) && (joinAtS.get(id) ?? 0) <= a.atS,
      );
      const count = a.count ?? Math.round((a.fraction ?? 0) * eligible.length);
      ids = prng.shuffle(eligible).slice(0, count);
    }
    for (const id of ids) chosen.set(id, { kind: a.kind, atS: a.atS });
  }
  return chosen;
}

/** The scenario's faults with their targets: an edge killed is the one named, else the first. */
function planFaults(scenario: Scenario, network: Network): FaultPlan[] {
  return scenario.faults.map((f): FaultPlan => {
    if (f.kind === 'kill-edge') return { kind: f.kind, atS: f.atS, edgeId: f.edge ?? network.edges[0]?.id ?? '' };
    return { kind: f.kind, atS: f.atS, downS: f.downS };
  });
}

/**
 * Expands the scripted churn into one event per viewer, in time order (ties: file order, then
 * viewer order). A fraction is drawn among viewers present at atS, excluding viewers that a
 * later or simultaneous event names explicitly, so named departures always find their viewer.
 */
function expandChurn(
  scenario: Scenario,
  network: Network,
  joinAtS: Map<string, number>,
  seed: number,
): { events: ChurnEvent[]; byViewer: Map<string, { atS: number; kind: 'leave' | 'kill' }> } {
  const prng = Prng.derive(seed, 'churn');
  const order = new Map(network.viewerIds.map((id, i) => [id, i]));
  const named = new Set<string>();
  for (const event of scenario.churn) {
    if (event.kind !== 'join') for (const id of event.viewers ?? []) named.add(id);
  }
  const byViewer = new Map<string, { atS: number; kind: 'leave' | 'kill' }>();
  const keyed: { event: ChurnEvent; eventIndex: number; viewerIndex: number }[] = [];

  for (const [id, joined] of network.joinedBy) {
    keyed.push({
      event: { atS: joined.atS, kind: 'join', viewerId: id },
      eventIndex: joined.eventIndex,
      viewerIndex: order.get(id)!,
    });
  }
  const departures = scenario.churn
    .map((event, eventIndex) => ({ event, eventIndex }))
    .filter((e) => e.event.kind !== 'join')
    .sort((a, b) => a.event.atS - b.event.atS || a.eventIndex - b.eventIndex);
  for (const { event, eventIndex } of departures) {
    if (event.kind === 'join') continue;
    let chosen: string[];
    if (event.viewers !== undefined) {
      chosen = event.viewers.filter((id) => !byViewer.has(id));
    } else {
      const present = network.viewerIds.filter(
        (id) => !named.has(id) && !byViewer.has(id) && (joinAtS.get(id) ?? 0) <= event.atS,
      );
      const count = Math.round((event.fraction ?? 0) * present.length);
      chosen = prng.shuffle(present).slice(0, count);
    }
    for (const id of chosen) {
      byViewer.set(id, { atS: event.atS, kind: event.kind });
      keyed.push({
        event: { atS: event.atS, kind: event.kind, viewerId: id },
        eventIndex,
        viewerIndex: order.get(id)!,
      });
    }
  }
  keyed.sort((a, b) => a.event.atS - b.event.atS || a.eventIndex - b.eventIndex || a.viewerIndex - b.viewerIndex);
  return { events: keyed.map((k) => k.event), byViewer };
}
