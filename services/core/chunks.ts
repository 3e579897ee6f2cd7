// Chunk bookkeeping shared by every relay and viewer: cutting a chunk into fragments and
// reassembling fragments (possibly from several parents, possibly duplicated) into complete chunks.
// A chunk's production time is its last byte's: the latest production time among its fragments.
import { FRAGMENT_OVERHEAD_BYTES } from './constants.js';

export interface FragmentRef {
  seq: number;
  offset: number;
  length: number;
  /** the chunk's size; 0 while the broadcaster does not know it yet (real video, frame-paced) */
  totalBytes: number;
  /** when the broadcaster released this fragment's bytes (µs); omitted: 0 */
  producedAtUs?: number;
}

/** A chunk as it completed: when its last byte was produced, and what the bound charges. */
export interface CompletedChunk {
  seq: number;
  totalBytes: number;
  /** production time of the chunk's last byte: the latest of its fragments' */
  producedAtUs: number;
  /** bytes released at that last instant: the last release unit (the whole chunk in segment mode) */
  lastReleaseBytes: number;
}

/** Bytes of the chunk a fragment carries (real or virtual). */
export function fragmentLength(f: { payload: Uint8Array; virtualLength: number }): number {
  return f.virtualLength > 0 ? f.virtualLength : f.payload.length;
}

/** Bytes a fragment occupies on an emulated link: payload plus framing (FRAGMENT_OVERHEAD_BYTES). */
export function wireBytes(payloadBytes: number): number {
  return payloadBytes + FRAGMENT_OVERHEAD_BYTES;
}

/** Offsets and lengths of the fragments of a chunk of `totalBytes`. */
export function fragmentRanges(totalBytes: number, fragmentBytes: number): Array<{ offset: number; length: number }> {
  const ranges: Array<{ offset: number; length: number }> = [];
  for (let offset = 0; offset < totalBytes; offset += fragmentBytes) {
    ranges.push({ offset, length: Math.min(fragmentBytes, totalBytes - offset) });
  }
  return ranges;
}

interface PartialChunk {
  received: Set<number>;
  bytes: number;
  totalBytes: number;
  producedAtUs: number;
  lastReleaseBytes: number;
}

/**
 * Tracks which bytes of each chunk a node holds. `add` returns 'new' for a fragment not seen
 * before, 'complete' when it completes its chunk (then `lastCompleted` describes it), and
 * 'duplicate' for bytes already held. A chunk whose size is not known yet (every fragment says
 * 0) completes when a fragment that knows it (the last one the broadcaster sent) has arrived too.
 */
export class ChunkAssembler {
  private readonly partial = new Map<number, PartialChunk>();
  private readonly complete = new Map<number, number>();
  /** the chunk the last 'complete' of `add` completed */
  lastCompleted: CompletedChunk | undefined;

  add(f: FragmentRef): 'new' | 'complete' | 'duplicate' {
    if (this.complete.has(f.seq)) return 'duplicate';
    let entry = this.partial.get(f.seq);
    if (!entry) {
      entry = { received: new Set(), bytes: 0, totalBytes: 0, producedAtUs: -Infinity, lastReleaseBytes: 0 };
      this.partial.set(f.seq, entry);
    }
    if (entry.received.has(f.offset)) return 'duplicate';
    entry.received.add(f.offset);
    entry.bytes += f.length;
    entry.totalBytes = Math.max(entry.totalBytes, f.totalBytes);
    const producedAtUs = f.producedAtUs ?? 0;
    if (producedAtUs > entry.producedAtUs) {
      entry.producedAtUs = producedAtUs;
      entry.lastReleaseBytes = f.length;
    } else if (producedAtUs === entry.producedAtUs) {
      entry.lastReleaseBytes += f.length;
    }
    if (entry.totalBytes > 0 && entry.bytes >= entry.totalBytes) {
      this.partial.delete(f.seq);
      this.complete.set(f.seq, entry.totalBytes);
      this.lastCompleted = {
        seq: f.seq,
        totalBytes: entry.totalBytes,
        producedAtUs: entry.producedAtUs,
        lastReleaseBytes: entry.lastReleaseBytes,
      };
      return 'complete';
    }
    return 'new';
  }

  /** Size of a complete chunk (undefined while incomplete). */
  totalBytes(seq: number): number | undefined {
    return this.complete.get(seq);
  }

  isComplete(seq: number): boolean {
    return this.complete.has(seq);
  }

  hasAny(seq: number): boolean {
    return this.complete.has(seq) || this.partial.has(seq);
  }

  /** Drops a partially received chunk, e.g. before fetching it whole from another parent. */
  discardPartial(seq: number): void {
    this.partial.delete(seq);
  }

  /** Forget chunks older than `seq` to bound memory on long runs. */
  forgetBefore(seq: number): void {
    for (const s of this.complete.keys()) if (s < seq) this.complete.delete(s);
    for (const s of this.partial.keys()) if (s < seq) this.partial.delete(s);
  }
}
