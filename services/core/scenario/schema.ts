// The scenario file format: a zod schema of the YAML (structure, ranges, defaults) plus the
// cross-field rules zod cannot express alone (unique ids, links to existing nodes, one origin,
// reachability, churn that names real viewers). Messages end in "— fix: …" so users can act.

import * as z from 'zod';
import {
  DEFAULT_BROADCASTER_ACCESS_MS,
  DEFAULT_BROADCASTER_ID,
  DEFAULT_CLUSTER_RADIUS_KM,
  DEFAULT_EDGE_ACCESS_MS,
  DEFAULT_FIBER_KM_PER_MS,
  DEFAULT_FRAGMENT_BYTES,
  DEFAULT_FRAME_RATE,
  DEFAULT_KEYFRAME_INTERVAL_CHUNKS,
  DEFAULT_ORIGIN_ACCESS_MS,
  DEFAULT_ORIGIN_ID,
  DEFAULT_PATH_INFLATION,
  DEFAULT_PEER_ACCESS_MS,
  DEFAULT_PRODUCTION,
  DEFAULT_SEED,
  DEFAULT_VIEWER_DOWNLINK_BPS,
  DEFAULT_VIEWER_UPLINK_BPS,
  MAX_FIBER_KM_PER_MS,
  MAX_VIEWERS_PER_CLUSTER,
  UNCONSTRAINED_BPS,
} from '../constants.js';
import { PAYLOADS } from '../types.js';

// ---- building blocks --------------------------------------------------------------------------

/** Scenario and cluster names end up in file names, metric labels and viewer ids. */
export const NAME_PATTERN = /^[a-z0-9-]+$/;
/** Node ids travel in gRPC messages, logs and CLI flags: keep them shell- and URL-safe. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const Name = z.string().regex(NAME_PATTERN);
const Id = z.string().regex(ID_PATTERN);
const Bps = z.number().positive();
const Lat = z.number().min(-90).max(90);
const Lon = z.number().min(-180).max(180);
const Count = z.number().int().positive();
const LatencyMs = z.number().min(0);
const Seconds = z.number().min(0);

// ---- sections ----------------------------------------------------------------------------------

/** The broadcaster's content: synthetic chunks (default), an RTMP push, or ffmpeg reading a file / lavfi source. */
const SourceSchema = z.strictObject({
  kind: z.enum(['synthetic', 'rtmp', 'file']).default('synthetic'),
  /** file: a path relative to the scenario, or lavfi:<filtergraph>; rtmp: a URL to pull instead of starting nginx */
  input: z.string().min(1).optional(),
  /** rtmp: broadcasters must publish with this key (it ends up in a URL path: keep it URL-safe) */
  streamKey: z
    .string()
    .regex(/^[A-Za-z0-9._~-]+$/)
    .optional(),
});

const StreamSchema = z.strictObject({
  bitrateBps: Bps,
  chunkDurationMs: z.number().positive(),
  keyframeIntervalChunks: Count.default(DEFAULT_KEYFRAME_INTERVAL_CHUNKS),
  fragmentBytes: Count.default(DEFAULT_FRAGMENT_BYTES),
  /** progressive: bytes released paced over the chunk as they are made; segment: the whole chunk at its end */
  production: z.enum(['progressive', 'segment']).default(DEFAULT_PRODUCTION),
  /** progressive: release units per second when `pacing` is `frame` */
  frameRate: z.number().positive().max(1000).default(DEFAULT_FRAME_RATE),
  /** progressive: one release per frame (frameRate), or one fragmentBytes fragment at a time */
  pacing: z.enum(['frame', 'fragment']).default('frame'),
  /**
   * synthetic chunks: virtual (only their size travels) or real (deterministic bytes, so a kernel
   * can shape them); default: the backend's (virtual on local, real on mininet)
   */
  payload: z.enum(PAYLOADS).optional(),
  source: SourceSchema.optional(),
});

const AccessLatencySchema = z.strictObject({
  broadcaster: LatencyMs.default(DEFAULT_BROADCASTER_ACCESS_MS),
  origin: LatencyMs.default(DEFAULT_ORIGIN_ACCESS_MS),
  edge: LatencyMs.default(DEFAULT_EDGE_ACCESS_MS),
  peer: LatencyMs.default(DEFAULT_PEER_ACCESS_MS),
});

const GeoBroadcasterSchema = z.strictObject({
  id: Id.default(DEFAULT_BROADCASTER_ID),
  /** default: the origin's place */
  lat: Lat.optional(),
  lon: Lon.optional(),
  uplinkBps: Bps.default(UNCONSTRAINED_BPS),
  downlinkBps: Bps.default(UNCONSTRAINED_BPS),
  region: Id.optional(),
});

const GeoOriginSchema = z.strictObject({
  id: Id.default(DEFAULT_ORIGIN_ID),
  lat: Lat,
  lon: Lon,
  uplinkBps: Bps.default(UNCONSTRAINED_BPS),
  /** default: same as uplinkBps (a server NIC is symmetric) */
  downlinkBps: Bps.optional(),
  region: Id.optional(),
});

const GeoEdgeSchema = z.strictObject({
  id: Id,
  lat: Lat,
  lon: Lon,
  uplinkBps: Bps.default(UNCONSTRAINED_BPS),
  downlinkBps: Bps.optional(),
  /** origin id or another edge id; default: the origin */
  parent: Id.optional(),
  region: Id.optional(),
});

const ClusterSchema = z.strictObject({
  name: Name,
  lat: Lat,
  lon: Lon,
  count: Count.max(MAX_VIEWERS_PER_CLUSTER),
  radiusKm: z.number().min(0).default(DEFAULT_CLUSTER_RADIUS_KM),
  uplinkBps: Bps.optional(),
  downlinkBps: Bps.optional(),
});

const GeoViewersSchema = z.strictObject({
  uplinkBps: Bps.default(DEFAULT_VIEWER_UPLINK_BPS),
  downlinkBps: Bps.default(DEFAULT_VIEWER_DOWNLINK_BPS),
  clusters: z.array(ClusterSchema).min(1),
});

export const GeoSchema = z.strictObject({
  pathInflation: z.number().min(1).default(DEFAULT_PATH_INFLATION),
  fiberKmPerMs: z.number().positive().max(MAX_FIBER_KM_PER_MS).default(DEFAULT_FIBER_KM_PER_MS),
  accessLatencyMs: AccessLatencySchema.prefault({}),
  broadcaster: GeoBroadcasterSchema.optional(),
  origin: GeoOriginSchema,
  edges: z.array(GeoEdgeSchema).min(1),
  viewers: GeoViewersSchema,
});

export const GRAPH_ROLES = ['broadcaster', 'origin', 'edge', 'peer', 'switch'] as const;

const GraphNodeSchema = z.strictObject({
  id: Id,
  role: z.enum(GRAPH_ROLES),
  /** default: the largest bandwidthBps of the node's links, else unconstrained */
  uplinkBps: Bps.optional(),
  downlinkBps: Bps.optional(),
  region: Id.optional(),
  /** optional place, only used to draw the overlay map */
  lat: Lat.optional(),
  lon: Lon.optional(),
});

const GraphLinkSchema = z.strictObject({
  a: Id,
  b: Id,
  latencyMs: LatencyMs,
  bandwidthBps: Bps.default(UNCONSTRAINED_BPS),
});

export const GraphSchema = z.strictObject({
  nodes: z.array(GraphNodeSchema).min(1),
  links: z.array(GraphLinkSchema).min(1),
  /** edge id → origin id or another edge id; edges not listed hang off the origin */
  edgeParents: z.record(Id, Id).optional(),
});

const ArrivalsSchema = z.strictObject({
  /** viewers join uniformly (seeded) over the first spreadS seconds */
  spreadS: Seconds.default(0),
});

const departure = <K extends 'kill' | 'leave'>(kind: K) =>
  z.strictObject({
    atS: Seconds,
    kind: z.literal(kind),
    /** a seeded random fraction of the viewers present at atS */
    fraction: z.number().gt(0).max(1).optional(),
    /** or these named viewers */
    viewers: z.array(Id).min(1).optional(),
  });

const ChurnSchema = z.discriminatedUnion('kind', [
  departure('kill'),
  departure('leave'),
  z.strictObject({
    atS: Seconds,
    kind: z.literal('join'),
    /** geo: `count` new viewers in `cluster` */
    count: Count.max(MAX_VIEWERS_PER_CLUSTER).optional(),
    cluster: Name.optional(),
    /** graph: these peers of the graph join at atS instead of at the start */
    viewers: z.array(Id).min(1).optional(),
  }),
]);

/**
 * Adversarial peers: from atS on, the chosen viewers keep their children but send them tampered
 * fragments (tamper), stale ones (replay), nothing (withhold) or everything at 10 % of the bitrate
 * (trickle). Chosen by `count` or `fraction` (seeded, among viewers present then) or by name.
 */
export const ADVERSARY_KINDS = ['tamper', 'replay', 'withhold', 'trickle'] as const;
const AdversarySchema = z.strictObject({
  kind: z.enum(ADVERSARY_KINDS),
  atS: Seconds,
  count: Count.optional(),
  fraction: z.number().gt(0).max(1).optional(),
  viewers: z.array(Id).min(1).optional(),
});

/**
 * Components killed on purpose by the lab: an edge (SIGKILL; its viewers fail over to the next
 * nearest edge), the tracker (SIGKILL, restarted on the same address after downS; peers keep
 * streaming from their parents and join again).
 */
const FaultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('kill-edge'), atS: Seconds, edge: Id.optional() }),
  z.strictObject({ kind: z.literal('restart-tracker'), atS: Seconds, downS: Seconds.default(1) }),
]);

/** Peer-path knobs a tracker is configured with (its planner's budget, not the network). */
const OverlaySchema = z.strictObject({
  /** viewers the origin may serve directly */
  originSlots: z.number().int().min(0).optional(),
  /** viewers each edge may serve directly (deadline fallbacks aside) */
  edgeSlots: z.number().int().min(0).optional(),
  /** children per peer at most (default: as many as its uplink carries) */
  maxFanout: z.number().int().min(1).optional(),
  /**
   * the CDN-byte budget of the peer path: the origin and the edges together serve at most this
   * share of the viewers directly (each root still within its own slots)
   */
  cdnShare: z.number().min(0).max(1).optional(),
});

const ScenarioShape = z.strictObject({
  name: Name,
  seed: z.number().int().default(DEFAULT_SEED),
  durationS: z.number().positive(),
  stream: StreamSchema,
  geo: GeoSchema.optional(),
  graph: GraphSchema.optional(),
  arrivals: ArrivalsSchema.prefault({}),
  churn: z.array(ChurnSchema).default([]),
  adversaries: z.array(AdversarySchema).default([]),
  faults: z.array(FaultSchema).default([]),
  overlay: OverlaySchema.prefault({}),
});

export const ScenarioSchema = ScenarioShape.superRefine((s, ctx) => {
  for (const issue of checkScenario(s)) ctx.addIssue({ code: 'custom', ...issue });
});

/** A validated scenario with every default filled in. */
export type Scenario = z.output<typeof ScenarioSchema>;
export type GeoSection = z.output<typeof GeoSchema>;
export type GraphSection = z.output<typeof GraphSchema>;
export type ChurnSpec = Scenario['churn'][number];
export type AdversarySpec = Scenario['adversaries'][number];
export type FaultSpec = Scenario['faults'][number];
export type GraphRole = (typeof GRAPH_ROLES)[number];

// ---- cross-field rules -------------------------------------------------------------------------

/** One rule violation; path is relative to the document root. */
export interface RuleIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Rules over the whole scenario. Runs after zod's structural checks, which guarantee the types
 * here but not the ranges (zod still runs refinements after a range check fails), so nothing
 * below may assume a number is in range.
 */
export function checkScenario(s: z.output<typeof ScenarioShape>): RuleIssue[] {
  const issues: RuleIssue[] = [];
  if (s.geo === undefined && s.graph === undefined) {
    issues.push({
      path: [],
      message:
        'the scenario has neither a `geo:` nor a `graph:` section — fix: add one (places with lat/lon, or explicit nodes and links)',
    });
  } else if (s.geo !== undefined && s.graph !== undefined) {
    issues.push({
      path: ['graph'],
      message:
        'the scenario has both `geo:` and `graph:` — fix: keep exactly one; a scenario is either placed on the globe or an explicit graph',
    });
  }
  if (s.stream.chunkDurationMs > s.durationS * 1000) {
    issues.push({
      path: ['stream', 'chunkDurationMs'],
      message: `one chunk (${s.stream.chunkDurationMs} ms) is longer than the whole broadcast (durationS ${s.durationS}) — fix: shorten the chunk or lengthen durationS`,
    });
  }
  if (s.stream.source?.kind === 'file' && s.stream.source.input === undefined) {
    issues.push({
      path: ['stream', 'source', 'input'],
      message:
        'a file source needs `input` — fix: a video file path, or e.g. `lavfi:testsrc=size=640x360:rate=30[out0];sine=frequency=440[out1]`',
    });
  }
  s.churn.forEach((event, i) => {
    if (event.atS >= s.durationS) {
      issues.push({
        path: ['churn', i, 'atS'],
        message: `must be before the end of the broadcast (durationS ${s.durationS}, got ${event.atS}) — fix: move the event earlier or lengthen durationS`,
      });
    }
  });
  s.adversaries.forEach((a, i) => {
    if (a.atS >= s.durationS) {
      issues.push({
        path: ['adversaries', i, 'atS'],
        message: `must be before the end of the broadcast (durationS ${s.durationS}, got ${a.atS}) — fix: move it earlier`,
      });
    }
    const selectors = [a.count, a.fraction, a.viewers].filter((x) => x !== undefined).length;
    if (selectors !== 1) {
      issues.push({
        path: ['adversaries', i],
        message: 'an adversary needs exactly one of `count`, `fraction` or `viewers` — fix: e.g. `count: 1`',
      });
    }
  });
  s.faults.forEach((f, i) => {
    if (f.atS >= s.durationS) {
      issues.push({
        path: ['faults', i, 'atS'],
        message: `must be before the end of the broadcast (durationS ${s.durationS}, got ${f.atS}) — fix: move it earlier`,
      });
    }
  });
  if (s.geo !== undefined && s.graph === undefined) issues.push(...checkGeo(s, s.geo));
  if (s.graph !== undefined && s.geo === undefined) issues.push(...checkGraph(s, s.graph));
  return issues;
}

function checkGeo(s: z.output<typeof ScenarioShape>, geo: GeoSection): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const broadcasterId = geo.broadcaster?.id ?? DEFAULT_BROADCASTER_ID;
  const infraIds = new Map<string, (string | number)[]>();
  const claim = (id: string, path: (string | number)[]) => {
    const first = infraIds.get(id);
    if (first !== undefined) {
      issues.push({
        path,
        message: `id "${id}" is already used by ${formatPath(first)} — fix: give every host its own id`,
      });
    } else {
      infraIds.set(id, path);
    }
  };
  claim(broadcasterId, ['geo', 'broadcaster', 'id']);
  claim(geo.origin.id, ['geo', 'origin', 'id']);
  geo.edges.forEach((edge, i) => {
    claim(edge.id, ['geo', 'edges', i, 'id']);
  });

  // Edge parents: an existing origin/edge, and no loops (an edge cannot feed itself).
  const edgeIds = new Set(geo.edges.map((e) => e.id));
  const parentOf = new Map<string, string>();
  geo.edges.forEach((edge, i) => {
    const parent = edge.parent ?? geo.origin.id;
    if (parent !== geo.origin.id && !edgeIds.has(parent)) {
      issues.push({
        path: ['geo', 'edges', i, 'parent'],
        message: `"${parent}" is neither the origin nor an edge — fix: use "${geo.origin.id}" or one of: ${[...edgeIds].join(', ')}`,
      });
    } else {
      parentOf.set(edge.id, parent);
    }
  });
  geo.edges.forEach((edge, i) => {
    if (hasCycle(edge.id, parentOf)) {
      issues.push({
        path: ['geo', 'edges', i, 'parent'],
        message: `edge "${edge.id}" is its own ancestor through its parents — fix: make the parent chain end at the origin`,
      });
    }
  });

  // Clusters: unique names, and generated viewer ids (<cluster>-<n>) must not shadow a host id.
  const clusters = new Map<string, number>();
  geo.viewers.clusters.forEach((cluster, i) => {
    if (clusters.has(cluster.name)) {
      issues.push({
        path: ['geo', 'viewers', 'clusters', i, 'name'],
        message: `cluster "${cluster.name}" is defined twice — fix: merge them or rename one`,
      });
      return;
    }
    clusters.set(cluster.name, i);
    for (const [id, path] of infraIds) {
      if (viewerIdParts(id)?.cluster === cluster.name) {
        issues.push({
          path,
          message: `id "${id}" looks like a viewer of cluster "${cluster.name}" (viewers are named <cluster>-<n>) — fix: rename the host`,
        });
      }
    }
  });

  // Joins: a geo join adds `count` viewers to an existing cluster.
  s.churn.forEach((event, i) => {
    if (event.kind !== 'join') return;
    if (event.viewers !== undefined) {
      issues.push({
        path: ['churn', i, 'viewers'],
        message:
          'a geo scenario joins new viewers by count — fix: write `count: N, cluster: <name>` instead of `viewers:`',
      });
    }
    if (event.count === undefined || event.cluster === undefined) {
      issues.push({
        path: ['churn', i],
        message:
          'a geo join needs `count` and `cluster` — fix: e.g. `{ atS: 10, kind: join, count: 5, cluster: tokyo }`',
      });
      return;
    }
    if (!clusters.has(event.cluster)) {
      issues.push({
        path: ['churn', i, 'cluster'],
        message: `no cluster named "${event.cluster}" — fix: use one of: ${[...clusters.keys()].join(', ')}`,
      });
    }
  });
  const joinsInTimeOrder = orderedJoins(s.churn);
  const rosterJoinAtS = (id: string): number | undefined => {
    const parts = viewerIdParts(id);
    if (parts === undefined) return undefined;
    const ci = clusters.get(parts.cluster);
    if (ci === undefined) return undefined;
    const initial = geo.viewers.clusters[ci]!.count;
    if (parts.n <= initial) return 0;
    // Joined viewers are numbered after the initial ones, in the time order of the join events.
    let n = initial;
    for (const event of joinsInTimeOrder) {
      if (event.kind !== 'join' || event.cluster !== parts.cluster || event.count === undefined) continue;
      if (parts.n <= n + event.count) return event.atS;
      n += event.count;
    }
    return undefined;
  };
  issues.push(...checkNamedDepartures(s, rosterJoinAtS, 'viewer ids are <cluster>-<n>, e.g. tokyo-3'));
  return issues;
}

function checkGraph(s: z.output<typeof ScenarioShape>, graph: GraphSection): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const nodes = new Map<string, { index: number; role: GraphRole }>();
  graph.nodes.forEach((node, i) => {
    const first = nodes.get(node.id);
    if (first !== undefined) {
      issues.push({
        path: ['graph', 'nodes', i, 'id'],
        message: `id "${node.id}" is already used by graph.nodes[${first.index}] — fix: give every node its own id`,
      });
      return;
    }
    nodes.set(node.id, { index: i, role: node.role });
    if (node.role === 'switch' && (node.uplinkBps !== undefined || node.downlinkBps !== undefined)) {
      issues.push({
        path: ['graph', 'nodes', i],
        message: `switch "${node.id}" has uplinkBps/downlinkBps, but a switch only forwards — fix: put the bandwidth on its links (bandwidthBps)`,
      });
    }
  });

  // Roles: exactly one broadcaster and one origin, at least one edge and one peer.
  const byRole = (role: GraphRole) => graph.nodes.filter((n) => n.role === role);
  for (const role of ['broadcaster', 'origin'] as const) {
    const found = byRole(role);
    if (found.length !== 1) {
      issues.push({
        path: ['graph', 'nodes'],
        message:
          found.length === 0
            ? `the graph has no ${role} — fix: add a node with \`role: ${role}\``
            : `the graph has ${found.length} ${role}s (${found.map((n) => n.id).join(', ')}) — fix: keep exactly one`,
      });
    }
  }
  if (byRole('edge').length === 0) {
    issues.push({
      path: ['graph', 'nodes'],
      message: 'the graph has no edge — fix: add a node with `role: edge` (the CDN path needs one)',
    });
  }
  if (byRole('peer').length === 0) {
    issues.push({
      path: ['graph', 'nodes'],
      message: 'the graph has no peer — fix: add at least one node with `role: peer` (a viewer)',
    });
  }

  // Links: endpoints exist and differ.
  const adjacency = new Map<string, string[]>([...nodes.keys()].map((id) => [id, []]));
  graph.links.forEach((link, i) => {
    let ok = true;
    for (const end of ['a', 'b'] as const) {
      if (!nodes.has(link[end])) {
        ok = false;
        issues.push({
          path: ['graph', 'links', i, end],
          message: `no node "${link[end]}" — fix: declare it under graph.nodes or correct the id`,
        });
      }
    }
    if (ok && link.a === link.b) {
      ok = false;
      issues.push({
        path: ['graph', 'links', i],
        message: `link connects "${link.a}" to itself — fix: remove it or correct one end`,
      });
    }
    if (ok) {
      adjacency.get(link.a)!.push(link.b);
      adjacency.get(link.b)!.push(link.a);
    }
  });

  // Edge parents: keys are edges, values the origin or another edge, no loops.
  const originId = byRole('origin')[0]?.id;
  const parentOf = new Map<string, string>();
  for (const [edgeId, parentId] of Object.entries(graph.edgeParents ?? {})) {
    if (nodes.get(edgeId)?.role !== 'edge') {
      issues.push({
        path: ['graph', 'edgeParents', edgeId],
        message: `"${edgeId}" is not an edge node — fix: list only nodes with \`role: edge\` as keys`,
      });
      continue;
    }
    const role = nodes.get(parentId)?.role;
    if (role !== 'edge' && role !== 'origin') {
      issues.push({
        path: ['graph', 'edgeParents', edgeId],
        message: `parent "${parentId}" is neither the origin nor an edge — fix: use ${originId !== undefined ? `"${originId}" or ` : ''}another edge's id`,
      });
      continue;
    }
    parentOf.set(edgeId, parentId);
  }
  for (const edgeId of parentOf.keys()) {
    if (hasCycle(edgeId, parentOf)) {
      issues.push({
        path: ['graph', 'edgeParents', edgeId],
        message: `edge "${edgeId}" is its own ancestor through edgeParents — fix: make the chain end at the origin`,
      });
    }
  }

  // Reachability: every host from the broadcaster; every viewer also from some edge.
  const broadcaster = byRole('broadcaster');
  if (broadcaster.length === 1) {
    const fromBroadcaster = reachable(broadcaster[0]!.id, adjacency);
    const edges = byRole('edge').map((e) => e.id);
    const fromEdges = new Set<string>();
    for (const e of edges) for (const id of reachable(e, adjacency)) fromEdges.add(id);
    graph.nodes.forEach((node, i) => {
      if (node.role === 'switch' || node.role === 'broadcaster') return;
      if (!fromBroadcaster.has(node.id)) {
        issues.push({
          path: ['graph', 'nodes', i],
          message: `${node.role} "${node.id}" cannot be reached from the broadcaster "${broadcaster[0]!.id}" — fix: add a link that connects it`,
        });
      } else if (node.role === 'peer' && edges.length > 0 && !fromEdges.has(node.id)) {
        issues.push({
          path: ['graph', 'nodes', i],
          message: `peer "${node.id}" cannot be reached from any edge — fix: link it to the CDN side of the graph`,
        });
      }
    });
  }

  // Churn: joins name peers of the graph.
  const joinAtS = new Map<string, number>();
  s.churn.forEach((event, i) => {
    if (event.kind !== 'join') return;
    if (event.count !== undefined || event.cluster !== undefined) {
      issues.push({
        path: ['churn', i],
        message:
          'a graph scenario has no clusters to add viewers to — fix: declare the late viewers as peers and list them: `viewers: [v5]`',
      });
    }
    if (event.viewers === undefined) {
      if (event.count === undefined && event.cluster === undefined) {
        issues.push({
          path: ['churn', i],
          message: 'a graph join needs `viewers: [...]` — fix: list the peers that join at atS',
        });
      }
      return;
    }
    event.viewers.forEach((id, k) => {
      if (nodes.get(id)?.role !== 'peer') {
        issues.push({
          path: ['churn', i, 'viewers', k],
          message: `"${id}" is not a peer of the graph — fix: use the id of a node with \`role: peer\``,
        });
      } else if (joinAtS.has(id)) {
        issues.push({
          path: ['churn', i, 'viewers', k],
          message: `peer "${id}" already joins at ${joinAtS.get(id)} s — fix: name each viewer in one join`,
        });
      } else {
        joinAtS.set(id, event.atS);
      }
    });
  });
  const rosterJoinAtS = (id: string): number | undefined =>
    nodes.get(id)?.role === 'peer' ? (joinAtS.get(id) ?? 0) : undefined;
  issues.push(...checkNamedDepartures(s, rosterJoinAtS, 'use ids of nodes with `role: peer`'));
  return issues;
}

/**
 * Rules shared by geo and graph for leave/kill events: exactly one of fraction/viewers; named
 * viewers exist, have joined by then, and depart once. rosterJoinAtS gives a viewer's scripted
 * join time (0 for the initial ones) or undefined when there is no such viewer.
 */
function checkNamedDepartures(
  s: z.output<typeof ScenarioShape>,
  rosterJoinAtS: (id: string) => number | undefined,
  idHint: string,
): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const departed = new Map<string, number>();
  s.churn.forEach((event, i) => {
    if (event.kind === 'join') return;
    if ((event.fraction === undefined) === (event.viewers === undefined)) {
      issues.push({
        path: ['churn', i],
        message: `a ${event.kind} event needs exactly one of \`fraction\` or \`viewers\` — fix: e.g. \`fraction: 0.3\` or \`viewers: [id]\``,
      });
      return;
    }
    event.viewers?.forEach((id, k) => {
      const joinAtS = rosterJoinAtS(id);
      if (joinAtS === undefined) {
        issues.push({
          path: ['churn', i, 'viewers', k],
          message: `no viewer "${id}" — fix: ${idHint}`,
        });
        return;
      }
      const earliestS = joinAtS === 0 ? s.arrivals.spreadS : joinAtS;
      if (event.atS < earliestS || (joinAtS > 0 && event.atS === joinAtS)) {
        issues.push({
          path: ['churn', i, 'atS'],
          message: `viewer "${id}" may not have joined yet at ${event.atS} s (joins ${joinAtS === 0 ? `within the first ${s.arrivals.spreadS} s` : `at ${joinAtS} s`}) — fix: move the ${event.kind} later`,
        });
      }
      if (departed.has(id)) {
        issues.push({
          path: ['churn', i, 'viewers', k],
          message: `viewer "${id}" already departs in churn[${departed.get(id)}] — fix: name each viewer in one leave/kill`,
        });
      } else {
        departed.set(id, i);
      }
    });
  });
  return issues;
}

// ---- helpers shared with the planner -----------------------------------------------------------

/** Splits a generated geo viewer id "<cluster>-<n>" (n ≥ 1); undefined for other ids. */
export function viewerIdParts(id: string): { cluster: string; n: number } | undefined {
  const m = /^([a-z0-9-]+)-([1-9][0-9]*)$/.exec(id);
  if (m === null) return undefined;
  return { cluster: m[1]!, n: Number(m[2]) };
}

/** Join events in the order viewers are numbered: by time, then as written (stable). */
export function orderedJoins<T extends { atS: number; kind: string }>(churn: readonly T[]): T[] {
  return churn.filter((e) => e.kind === 'join').sort((a, b) => a.atS - b.atS);
}

function hasCycle(start: string, parentOf: Map<string, string>): boolean {
  const seen = new Set<string>();
  for (let id: string | undefined = start; id !== undefined; id = parentOf.get(id)) {
    if (seen.has(id)) return id === start; // a loop further up is reported for its own members
    seen.add(id);
  }
  return false;
}

function reachable(start: string, adjacency: Map<string, string[]>): Set<string> {
  const seen = new Set([start]);
  const stack = [start];
  while (stack.length > 0) {
    for (const next of adjacency.get(stack.pop()!) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return seen;
}

/** geo.edges[1].lat — the form every scenario message uses. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out === '' ? '(top level)' : out;
}
