// Issue 16's figures: what verifying the origin's signatures costs (per fragment, per viewer, and
// as a share of a run's CPU), and what adversaries and killed components did to honest viewers,
// each from runs made side by side in this bench.
import type { Chunk } from '../services/gen/livepath/v1/chunk.js';
import type { StreamPlan } from '../services/core/types.js';
import { FragmentSigner, FragmentVerifier } from '../services/relay/integrity.js';

export interface VerifyCost {
  /** CPU µs of one Ed25519 verification of a fragment */
  verifyUs: number;
  /** CPU µs of checking a fragment already verified in the process (digest + lookup) */
  rememberedUs: number;
  /** fragments per second of the stream */
  fragmentsPerS: number;
}

/** Measures both costs on `n` fragments shaped like the stream's (virtual, as the synthetic source sends). */
export function benchVerifyCost(stream: StreamPlan, n = 3_000): VerifyCost {
  const signer = new FragmentSigner();
  const nowUs = 1e15;
  const fragments: Chunk[] = [];
  const length = Math.min(stream.fragmentBytes, stream.releaseUnitBytes);
  for (let i = 0; i < n; i++) {
    const f: Chunk = {
      streamId: stream.streamId,
      seq: Math.floor(i / 8),
      producedAtUs: nowUs - 1_000,
      durationUs: stream.chunkDurationUs,
      payload: Buffer.alloc(0),
      keyframe: false,
      signature: Buffer.alloc(0),
      hops: 1,
      offset: (i % 8) * length,
      totalBytes: stream.chunkBytes,
      sentAtUs: 0,
      senderId: 'edge',
      viaPeer: false,
      virtualLength: length,
    };
    f.signature = signer.sign(f);
    fragments.push(f);
  }
  const verifier = new FragmentVerifier(signer.publicKey, { nowUs: () => nowUs }, 2 * n);
  const cpu = (fn: () => void) => {
    const t0 = process.cpuUsage();
    fn();
    const t = process.cpuUsage(t0);
    return (t.user + t.system) / n;
  };
  const verifyUs = cpu(() => {
    for (const f of fragments) if (verifier.check(f) !== undefined) throw new Error('bench fragment refused');
  });
  const rememberedUs = cpu(() => {
    for (const f of fragments) verifier.check({ ...f, senderId: 'v2' });
  });
  const fragmentsPerRelease = Math.ceil(stream.releaseUnitBytes / stream.fragmentBytes);
  const fragmentsPerS = (stream.releasesPerChunk * fragmentsPerRelease * 1e6) / stream.chunkDurationUs;
  return { verifyUs, rememberedUs, fragmentsPerS };
}

/** A chain of six peers (fan-out 1): every viewer but the last has a child to wrong. */
export function chainScenario(name: string, durationS: number, adversaries: string): string {
  const ids = [1, 2, 3, 4, 5, 6];
  return `
name: ${name}
seed: 5
durationS: ${durationS}
stream: { bitrateBps: 2e6, chunkDurationMs: 250 }
graph:
  nodes:
    - { id: b, role: broadcaster }
    - { id: origin, role: origin, uplinkBps: 1e9 }
    - { id: edge1, role: edge, uplinkBps: 1e9 }
    - { id: s1, role: switch }
${ids.map((i) => `    - { id: v${i}, role: peer, uplinkBps: 20e6, downlinkBps: 50e6 }`).join('\n')}
  links:
    - { a: b, b: origin, latencyMs: 1 }
    - { a: origin, b: s1, latencyMs: 10 }
    - { a: origin, b: edge1, latencyMs: 5 }
    - { a: edge1, b: s1, latencyMs: 10 }
${ids.map((i) => `    - { a: s1, b: v${i}, latencyMs: ${i} }`).join('\n')}
overlay: { originSlots: 1, edgeSlots: 0, maxFanout: 1 }
adversaries:
${adversaries}`;
}

/** Eight viewers behind a switch and two edges (edge1 the nearer): for killing components. */
export function twoEdgeScenario(name: string, faults: string, overlay = ''): string {
  const ids = [1, 2, 3, 4, 5, 6, 7, 8];
  return `
name: ${name}
seed: 4
durationS: 10
stream: { bitrateBps: 2e6, chunkDurationMs: 250 }
graph:
  nodes:
    - { id: b, role: broadcaster }
    - { id: origin, role: origin, uplinkBps: 1e9 }
    - { id: edge1, role: edge, uplinkBps: 1e9 }
    - { id: edge2, role: edge, uplinkBps: 1e9 }
    - { id: s1, role: switch }
${ids.map((i) => `    - { id: v${i}, role: peer, uplinkBps: 20e6, downlinkBps: 50e6 }`).join('\n')}
  links:
    - { a: b, b: origin, latencyMs: 1 }
    - { a: origin, b: edge1, latencyMs: 5 }
    - { a: origin, b: edge2, latencyMs: 5 }
    - { a: edge1, b: s1, latencyMs: 5 }
    - { a: edge2, b: s1, latencyMs: 15 }
${ids.map((i) => `    - { a: s1, b: v${i}, latencyMs: ${i} }`).join('\n')}
${overlay}
faults:
${faults}`;
}
