// A hand-built run plan for tests of the data path that must not depend on the scenario parser.
import type { HostPlan, RunPlan } from '../../services/core/types.js';

export function fakePlan(
  opts: {
    latencyMs?: number;
    uplinkBps?: number;
    downlinkBps?: number;
    viewers?: string[];
    /** default segment: the whole 62.5 KB chunk at once; progressive releases 8 frames of 7.8 KB */
    production?: 'progressive' | 'segment';
  } = {},
): RunPlan {
  const production = opts.production ?? 'segment';
  const releasesPerChunk = production === 'segment' ? 1 : 8;
  const viewers = opts.viewers ?? ['v1', 'v2'];
  const host = (id: string, role: HostPlan['role']): HostPlan => ({
    id,
    role,
    region: 'test',
    uplinkBps: role === 'peer' ? (opts.uplinkBps ?? 50e6) : 10e9,
    downlinkBps: role === 'peer' ? (opts.downlinkBps ?? 100e6) : 10e9,
  });
  const hosts = new Map<string, HostPlan>([
    ['b', host('b', 'broadcaster')],
    ['origin', host('origin', 'origin')],
    ['edge', host('edge', 'edge')],
    ...viewers.map((v) => [v, host(v, 'peer')] as [string, HostPlan]),
  ]);
  return {
    scenarioName: 'fake',
    seed: 1,
    kind: 'graph',
    durationS: 2,
    stream: {
      streamId: 'live',
      bitrateBps: 2e6,
      chunkDurationUs: 250_000,
      chunkBytes: 62_500,
      keyframeIntervalChunks: 1,
      fragmentBytes: 16_384,
      production,
      frameRate: 32,
      pacing: 'frame',
      releasesPerChunk,
      releaseUnitBytes: Math.ceil(62_500 / releasesPerChunk),
    },
    broadcasterId: 'b',
    originId: 'origin',
    hosts,
    edges: [{ id: 'edge', parentId: 'origin' }],
    viewers: viewers.map((id) => ({
      id,
      edgeId: 'edge',
      boundMs: 10,
      boundPropagationMs: 5,
      boundSerializationMs: 5,
      bottleneckBps: 100e6,
      joinAtS: 0,
    })),
    churn: [],
    faults: [],
    overlay: {},
    latencyMs: (a, b) => (a === b ? 0 : (opts.latencyMs ?? 5)),
    bottleneckBps: () => opts.downlinkBps ?? 100e6,
  };
}

/** A clock tests move by hand. */
export class ManualClock {
  constructor(public us = 1_000_000) {}
  nowUs = () => this.us;
}
