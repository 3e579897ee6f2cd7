// The synthetic broadcaster's content (sans-IO). By default its chunks are virtual: only their size
// travels (moving 100s of Mbit/s of meaningless bytes through grpc-js would saturate a 2-core
// machine and make the emulation lie); the origin signs a digest of each fragment's description
// (relay/integrity.ts: fragmentDigest).
// With stream.payload `real` (the mininet default: htb shapes only bytes that travel) the chunks
// carry these bytes, a deterministic function of (stream, seq), and the origin signs each fragment's bytes.
import { createHash } from 'node:crypto';
import type { StreamPlan } from '../core/types.js';
import { fragmentRanges } from '../core/chunks.js';

export function syntheticPayload(streamId: string, seq: number, bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  // Fill with a SHA-256 counter stream: cheap, deterministic, incompressible like real video.
  let block = createHash('sha256').update(`${streamId}/${seq}`).digest();
  for (let off = 0; off < bytes; off += block.length) {
    block.copy(out, off, 0, Math.min(block.length, bytes - off));
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

export function isKeyframe(stream: StreamPlan, seq: number): boolean {
  return seq % stream.keyframeIntervalChunks === 0;
}

export { fragmentRanges };
