// The synthetic broadcaster's content (sans-IO): chunk k's bytes, its keyframe flag, and its
// fragments. Bytes are a deterministic function of (stream, seq) so any receiver can check them.
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
