// The run plan: everything a service or the lab needs to know about one experiment, derived
// deterministically from a scenario file and its seed. Every process recomputes the same plan
// from the same inputs, so nothing but the scenario and the seed has to travel between them.

export type Role = 'broadcaster' | 'origin' | 'edge' | 'peer' | 'switch';
export type DeliveryPath = 'cdn' | 'peer';
export type Mode = 'cdn' | 'p2p';
/** How the broadcaster releases a chunk's bytes (see DESIGN.md, "production"). */
export type Production = 'progressive' | 'segment';

/**
 * How a service shapes its links (--link-shaping, LIVEPATH_LINK_SHAPING, which the chart sets):
 * linkemu does latency and bandwidth in user space; delay-only leaves bandwidth to the kernel
 * (htb on Mininet); kernel leaves both to the network (netem).
 */
export const LINK_SHAPINGS = ['linkemu', 'delay-only', 'kernel'] as const;
export type LinkShaping = (typeof LINK_SHAPINGS)[number];

/**
 * What a synthetic chunk carries: `virtual`, only its size (cheap: a 2-core machine relays 100s of
 * Mbit/s of it); `real`, the deterministic bytes of origin/synthetic.ts (a kernel's htb can shape them).
 */
export const PAYLOADS = ['virtual', 'real'] as const;
export type Payload = (typeof PAYLOADS)[number];

export interface StreamPlan {
  streamId: string;
  bitrateBps: number;
  chunkDurationUs: number;
  /** bytes of one chunk = bitrateBps × chunkDuration / 8, rounded */
  chunkBytes: number;
  /** every n-th chunk starts with a keyframe (1 = every chunk) */
  keyframeIntervalChunks: number;
  /** size of the fragments relays forward cut-through */
  fragmentBytes: number;
  /**
   * progressive: the broadcaster releases a chunk's bytes paced over its duration, one release
   * unit (a frame, or a fragment) at a time; segment: the whole chunk at once, at its end.
   */
  production: Production;
  /** progressive: frames per second (the release rate when pacing is per frame) */
  frameRate: number;
  /** progressive: one release per frame, or one fragmentBytes fragment at a time */
  pacing: 'frame' | 'fragment';
  /** release units per chunk: frames (or fragments) in progressive mode, 1 in segment mode */
  releasesPerChunk: number;
  /**
   * bytes of one nominal release unit (a frame or fragment; the whole chunk in segment mode): what
   * a relay serves to each child in turn and what the bound charges at the bottleneck. Real video
   * has its own sizes; the bound of each chunk is computed from its actual bytes.
   */
  releaseUnitBytes: number;
  /** where the origin's chunks come from; absent = the synthetic generator */
  source?: StreamSource;
  /** synthetic chunks: virtual or real bytes; absent = the backend's default (see Payload) */
  payload?: Payload;
}

/** The broadcaster: synthetic chunks, a broadcast pushed over RTMP, or a file / lavfi test source through ffmpeg. */
export interface StreamSource {
  kind: 'synthetic' | 'rtmp' | 'file';
  /** file: a path (relative to the scenario file) or lavfi:<graph>; rtmp: the URL the origin pulls */
  input?: string;
  /** rtmp: the key a broadcaster must publish with */
  streamKey?: string;
}

export interface HostPlan {
  id: string;
  role: Role;
  /** place name (city / cluster / explicit node group), a bounded label for metrics */
  region: string;
  lat?: number;
  lon?: number;
  uplinkBps: number;
  downlinkBps: number;
}

export interface ViewerPlan {
  id: string;
  /** nearest edge by latency: the viewer's CDN-path parent */
  edgeId: string;
  /**
   * nominal bound of this viewer: shortest broadcaster→viewer propagation + one release unit's
   * serialization at the path's bottleneck (the recorded bound of each chunk uses its actual bytes)
   */
  boundMs: number;
  /** propagation part of the bound */
  boundPropagationMs: number;
  /** serialization part of the nominal bound */
  boundSerializationMs: number;
  /** bottleneck bandwidth of the shortest broadcaster→viewer path (bit/s): bytes → serialization */
  bottleneckBps: number;
  /** join time, seconds from the broadcast start (0 = present from the start) */
  joinAtS: number;
  /** departure time in seconds from the start, if the scenario scripts one */
  leaveAtS?: number;
  /** how it leaves: graceful Leave or killed without notice */
  leaveKind?: 'graceful' | 'kill';
  /** the scenario makes this viewer an adversary from atS on (scenario `adversaries:`) */
  adversary?: { kind: AdversaryKind; atS: number };
}

export type AdversaryKind = 'tamper' | 'replay' | 'withhold' | 'trickle';

/** A component the lab kills on purpose (scenario `faults:`), seconds from the broadcast start. */
export type FaultPlan =
  | { kind: 'kill-edge'; atS: number; edgeId: string }
  | { kind: 'restart-tracker'; atS: number; downS: number };

export interface EdgePlan {
  id: string;
  /** origin id or another edge id */
  parentId: string;
}

/** One scripted churn event, seconds from the broadcast start. */
export interface ChurnEvent {
  atS: number;
  kind: 'join' | 'leave' | 'kill';
  viewerId: string;
}

export interface RunPlan {
  scenarioName: string;
  seed: number;
  /** 'graph' for explicit nodes/links, 'geo' for places with lat/lon */
  kind: 'graph' | 'geo';
  durationS: number;
  stream: StreamPlan;
  broadcasterId: string;
  originId: string;
  /** every host that sends or receives chunks, keyed by id (no switches) */
  hosts: Map<string, HostPlan>;
  edges: EdgePlan[];
  viewers: ViewerPlan[];
  churn: ChurnEvent[];
  faults: FaultPlan[];
  /** peer-path planner budget (tracker defaults where unset) */
  overlay: { originSlots?: number; edgeSlots?: number; maxFanout?: number; cdnShare?: number };
  /**
   * One-way propagation delay between two hosts along the scenario's network (ms): shortest path
   * over links for graphs, great-circle formula + access latencies for geo. Symmetric.
   */
  latencyMs(a: string, b: string): number;
  /** Bottleneck bandwidth of the shortest path between two hosts (bit/s). */
  bottleneckBps(a: string, b: string): number;
}
