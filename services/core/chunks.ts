// Chunk bookkeeping shared by every relay and viewer: cutting a chunk into fragments and
// reassembling fragments (possibly from several parents, possibly duplicated) into complete chunks.

export interface FragmentRef {
  seq: number;
  offset: number;
  length: number;
  totalBytes: number;
}

/** Offsets and lengths of the fragments of a chunk of `totalBytes`. */
export function fragmentRanges(totalBytes: number, fragmentBytes: number): Array<{ offset: number; length: number }> {
  const ranges: Array<{ offset: number; length: number }> = [];
  for (let offset = 0; offset < totalBytes; offset += fragmentBytes) {
    ranges.push({ offset, length: Math.min(fragmentBytes, totalBytes - offset) });
  }
  return ranges;
}

/**
 * Tracks which bytes of each chunk a node holds. `add` returns 'new' for a fragment not seen
 * before, 'complete' when it completes its chunk, and 'duplicate' for bytes already held.
 */
export class ChunkAssembler {
  private readonly partial = new Map<number, { received: Set<number>; bytes: number; totalBytes: number }>();
  private readonly complete = new Set<number>();

  add(f: FragmentRef): 'new' | 'complete' | 'duplicate' {
    if (this.complete.has(f.seq)) return 'duplicate';
    let entry = this.partial.get(f.seq);
    if (!entry) {
      entry = { received: new Set(), bytes: 0, totalBytes: f.totalBytes };
      this.partial.set(f.seq, entry);
    }
    if (entry.received.has(f.offset)) return 'duplicate';
    entry.received.add(f.offset);
    entry.bytes += f.length;
    if (entry.bytes >= entry.totalBytes) {
      this.partial.delete(f.seq);
      this.complete.add(f.seq);
      return 'complete';
    }
    return 'new';
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
    for (const s of this.complete) if (s < seq) this.complete.delete(s);
    for (const s of this.partial.keys()) if (s < seq) this.partial.delete(s);
  }
}
