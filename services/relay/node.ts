// The one relay that origin, edge and peer all are: it stores recent chunks as fragments, and
// forwards each fragment to its children the moment it has it (cut-through), each child through a
// bounded queue, in priority order, stamped by the emulated uplink it shares with its siblings.
import type { Chunk } from '../gen/livepath/v1/chunk.js';
import { ChunkAssembler } from '../core/chunks.js';
import type { LinkEmulator } from '../linkemu/emulator.js';
import { ChildTooSlowError, NodeGoneError, type RelayError } from './errors.js';
import { DELAY_EWMA_WEIGHT, KEEP_CHUNKS, MAX_CHILD_QUEUE_FRAGMENTS, fragmentLength, wireBytes } from './constants.js';

/** Where a child's fragments go: a gRPC server stream, or an in-memory sink in tests. */
export interface ChildSink {
  /** Returns false when the sink wants no more until `onDrain` fires. */
  write(fragment: Chunk): boolean;
  onDrain(cb: () => void): void;
  fail(error: RelayError): void;
  end(): void;
}

export interface SubscribeOptions {
  childId: string;
  fromSeq?: number;
  fromLive?: boolean;
  /** inclusive; undefined = no end */
  toSeq?: number;
  priority?: number;
}

export interface RelayNodeInit {
  id: string;
  /** peers mark what they forward as travelled via the peer path */
  role: 'origin' | 'edge' | 'peer';
  keepChunks?: number;
  maxChildQueueFragments?: number;
}

export interface RelayNodeComponents {
  link: LinkEmulator;
}

interface StoredChunk {
  fragments: Chunk[];
}

class ChildStream {
  readonly queue: Chunk[] = [];
  private waitingForDrain = false;
  closed = false;

  constructor(
    readonly id: string,
    readonly priority: number,
    readonly fromSeq: number,
    readonly toSeq: number | undefined,
    private readonly sink: ChildSink,
  ) {
    sink.onDrain(() => {
      this.waitingForDrain = false;
      this.flush();
    });
  }

  wants(seq: number): boolean {
    return !this.closed && seq >= this.fromSeq && (this.toSeq === undefined || seq <= this.toSeq);
  }

  push(fragment: Chunk): void {
    this.queue.push(fragment);
    this.flush();
  }

  flush(): void {
    while (!this.waitingForDrain && this.queue.length > 0 && !this.closed) {
      const f = this.queue.shift()!;
      if (!this.sink.write(f)) this.waitingForDrain = true;
    }
  }

  fail(error: RelayError): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.sink.fail(error);
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    this.sink.end();
  }
}

export class RelayNode {
  readonly id: string;
  private readonly store = new Map<number, StoredChunk>();
  private readonly assembler = new ChunkAssembler();
  private children: ChildStream[] = [];
  private newestSeq = -1;
  /** bytes sent to children (all hops out of this node) */
  sentBytes = 0;
  /** smoothed delay (ms) from production to completion of chunks at this node; 0 = none yet */
  delayMs = 0;
  /** Called when a chunk becomes complete at this node, with the fragment that completed it. */
  onChunkComplete: ((last: Chunk, actualUs: number) => void) | undefined;

  constructor(
    private readonly init: RelayNodeInit,
    private readonly components: RelayNodeComponents,
  ) {
    this.id = init.id;
  }

  get childCount(): number {
    return this.children.length;
  }

  get queuedFragments(): number {
    let n = 0;
    for (const c of this.children) n += c.queue.length;
    return n;
  }

  get newest(): number {
    return this.newestSeq;
  }

  hasComplete(seq: number): boolean {
    return this.assembler.isComplete(seq);
  }

  /**
   * A fragment has arrived at this node (after its emulated link) at `actualUs`; the model meant
   * it to arrive at `intendedUs`. Stores it and forwards it, departing at the intended time.
   */
  accept(fragment: Chunk, actualUs: number, intendedUs: number = actualUs): 'new' | 'complete' | 'duplicate' {
    const seq = fragment.seq;
    const result = this.assembler.add({ seq, offset: fragment.offset, length: fragmentLength(fragment), totalBytes: fragment.totalBytes });
    if (result === 'duplicate') return result;
    let stored = this.store.get(seq);
    if (!stored) {
      stored = { fragments: [] };
      this.store.set(seq, stored);
      if (seq > this.newestSeq) {
        this.newestSeq = seq;
        this.evict();
      }
    }
    stored.fragments.push(fragment);
    for (const child of this.children) if (child.wants(seq)) this.send(child, fragment, intendedUs);
    if (result === 'complete') {
      const d = (actualUs - fragment.producedAtUs) / 1000;
      this.delayMs = this.delayMs === 0 ? d : this.delayMs + DELAY_EWMA_WEIGHT * (d - this.delayMs);
      this.onChunkComplete?.(fragment, actualUs);
    }
    return result;
  }

  /** The bytes of a complete chunk this node holds, in order (for recording what a viewer got). */
  chunkPayload(seq: number): Buffer | undefined {
    const stored = this.store.get(seq);
    if (!stored || !this.assembler.isComplete(seq)) return undefined;
    const total = stored.fragments[0]?.totalBytes ?? 0;
    if (stored.fragments.some((f) => f.virtualLength > 0)) return undefined; // a synthetic chunk has no bytes
    const out = Buffer.alloc(total);
    for (const f of stored.fragments) out.set(f.payload, f.offset);
    return out;
  }

  /** Adds a child; sends what it asked for from the store, then live fragments as they come. */
  subscribe(opts: SubscribeOptions, sink: ChildSink): () => void {
    const fromSeq = opts.fromLive || opts.fromSeq === undefined ? Math.max(0, this.newestSeq) : opts.fromSeq;
    const child = new ChildStream(opts.childId, opts.priority ?? 0, fromSeq, opts.toSeq, sink);
    // Highest priority first; among equals, the earlier subscriber first.
    const at = this.children.findIndex((c) => c.priority < child.priority);
    if (at < 0) this.children.push(child);
    else this.children.splice(at, 0, child);
    const seqs = [...this.store.keys()].filter((s) => child.wants(s)).sort((a, b) => a - b);
    for (const s of seqs) for (const f of this.store.get(s)!.fragments) this.send(child, f);
    if (child.toSeq !== undefined && seqs.length > 0 && this.assembler.isComplete(child.toSeq)) child.end();
    return () => this.unsubscribe(child);
  }

  /** Cuts every child stream with an error, as a crash would (ungraceful kill). */
  abortAll(): void {
    for (const c of this.children) c.fail(new NodeGoneError(this.id));
    this.children = [];
  }

  /** Ends every child stream (graceful stop). */
  endAll(): void {
    for (const c of this.children) c.end();
    this.children = [];
  }

  private unsubscribe(child: ChildStream): void {
    child.closed = true;
    this.children = this.children.filter((c) => c !== child);
  }

  /** Queues `fragment` to `child`, handed to the uplink at `atUs` (default: now, for backlog). */
  private send(child: ChildStream, fragment: Chunk, atUs?: number): void {
    if (child.queue.length >= (this.init.maxChildQueueFragments ?? MAX_CHILD_QUEUE_FRAGMENTS)) {
      child.fail(new ChildTooSlowError(child.id, child.queue.length));
      this.unsubscribe(child);
      return;
    }
    const bytes = wireBytes(fragmentLength(fragment));
    const out: Chunk = {
      ...fragment,
      hops: fragment.hops + 1,
      senderId: this.id,
      // Live forwarding follows the chunk schedule (children served in priority order); backlog
      // for a resuming child goes out as a plain queue from now.
      sentAtUs:
        atUs === undefined
          ? this.components.link.depart(this.id, bytes)
          : this.components.link.departFragment(this.id, child.id, { seq: fragment.seq, offset: fragment.offset, length: bytes, totalBytes: fragment.totalBytes }, atUs),
      viaPeer: fragment.viaPeer || this.init.role === 'peer',
    };
    this.sentBytes += bytes;
    child.push(out);
    if (child.toSeq !== undefined && fragment.seq === child.toSeq && this.assembler.isComplete(child.toSeq)) {
      const stored = this.store.get(child.toSeq);
      if (stored && stored.fragments[stored.fragments.length - 1] === fragment) child.end();
    }
  }

  private evict(): void {
    const keep = this.init.keepChunks ?? KEEP_CHUNKS;
    const oldest = this.newestSeq - keep + 1;
    for (const s of this.store.keys()) if (s < oldest) this.store.delete(s);
    this.assembler.forgetBefore(oldest);
  }
}
