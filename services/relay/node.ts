// The one relay that origin, edge and peer all are: it stores recent chunks as fragments, and
// forwards each fragment to its children the moment its bytes arrive (cut-through, and ahead of
// the emulated arrival: see `arrive`), each child through a bounded queue, in priority order,
// stamped by the emulated uplink it shares with its siblings.
import type { Chunk } from '../gen/livepath/v1/chunk.js';
import { ChunkAssembler, type CompletedChunk, type FragmentRef, fragmentLength, wireBytes } from '../core/chunks.js';
import type { LinkEmulator } from '../linkemu/emulator.js';
import { ChildTooSlowError, NodeGoneError, type RelayError } from './errors.js';
import type { FragmentVerifier, RejectReason } from './integrity.js';
import { DELAY_EWMA_WEIGHT, HOLD_MIN_CHILDREN, KEEP_CHUNKS, MAX_CHILD_QUEUE_FRAGMENTS } from './constants.js';

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
  /** hold copies back (see HOLD_MIN_CHILDREN) with more children than this */
  holdMinChildren?: number;
}

export interface RelayNodeComponents {
  link: LinkEmulator;
  /** checks every fragment that arrives from the network (absent: the origin, which made them) */
  verifier?: FragmentVerifier;
  /** told of each fragment refused (never stored, forwarded or played) */
  onRejected?: (fragment: Chunk, reason: RejectReason) => void;
}

interface StoredChunk {
  fragments: Chunk[];
  /** the emulated arrival of each fragment here (µs): nothing leaves this node before it */
  arrivals: number[];
}

class ChildStream {
  readonly queue: Chunk[] = [];
  /** copies waiting for their hand-over time, not yet in `queue` */
  held = 0;
  private heldUntilUs = 0;
  private endWhenHandedOver = false;
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

  /** Writes `fragment` once the clock reaches `handOverUs`, after every copy held before it. */
  push(fragment: Chunk, handOverUs: number, link: LinkEmulator): void {
    if (this.held === 0 && handOverUs <= link.nowUs()) {
      this.queue.push(fragment);
      this.flush();
      return;
    }
    this.heldUntilUs = Math.max(this.heldUntilUs, handOverUs);
    this.held++;
    link.at(this.heldUntilUs, () => {
      this.held--;
      if (this.closed) return;
      this.queue.push(fragment);
      this.flush();
      if (this.held === 0 && this.endWhenHandedOver) this.end();
    });
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
    if (this.held > 0) {
      this.endWhenHandedOver = true;
      return;
    }
    this.closed = true;
    this.flush();
    this.sink.end();
  }
}

export class RelayNode {
  readonly id: string;
  private readonly store = new Map<number, StoredChunk>();
  /** the bytes this node holds (some may not have arrived in the emulated network yet) */
  private readonly assembler = new ChunkAssembler();
  /** the bytes the emulated network has delivered: chunk completion is counted here */
  private readonly delivered = new ChunkAssembler();
  private children: ChildStream[] = [];
  private inbox: Array<{ fragment: Chunk; intendedUs: number; arrivalUs: number }> = [];
  private inboxDrain: NodeJS.Immediate | undefined;
  private newestSeq = -1;
  /** the newest chunk this node holds whole: where a live joiner starts */
  private newestCompleteSeq = -1;
  /** bytes sent to children (all hops out of this node) */
  sentBytes = 0;
  /** smoothed delay (ms) from production to completion of chunks at this node; 0 = none yet */
  delayMs = 0;
  /**
   * Called when a chunk becomes complete at this node in the emulated network, with the fragment
   * that completed it and the chunk's production time and last release unit.
   */
  onChunkComplete: ((last: Chunk, actualUs: number, chunk: CompletedChunk) => void) | undefined;
  /**
   * Fault injection (a scenario's adversaries, peer/adversary.ts): rewrites each copy this node
   * sends a child, or drops it (undefined). Honest nodes leave it unset.
   */
  misbehave: ((out: Chunk, childId: string) => Chunk | undefined) | undefined;
  /** Called for each fragment the emulated network delivers here for the first time. */
  onFragmentDelivered: ((fragment: Chunk, arrivalUs: number) => void) | undefined;

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

  /** Whether this node holds all of chunk `seq` (its emulated arrival may still be ahead). */
  hasComplete(seq: number): boolean {
    return this.assembler.isComplete(seq);
  }

  /** Whether chunk `seq` has arrived here whole in the emulated network. */
  hasDelivered(seq: number): boolean {
    return this.delivered.isComplete(seq);
  }

  /**
   * The bytes of `fragment` (stamped by its sender) reached this node's process at `receivedUs`
   * (default: now). They are stored and forwarded to children at once, each copy leaving no earlier
   * than the emulated arrival here, so children hold the bytes before the model needs them and this
   * process's timer lateness delays nobody downstream. The node itself gets the fragment (completion, delay,
   * `onChunkComplete`) when the emulated arrival comes.
   *
   * A second copy of bytes already held (a CDN fallback racing a late peer) is not forwarded again,
   * but it is still delivered at its own arrival: whichever copy the model delivers first counts.
   *
   * Arrival is computed at once; forwarding waits for the end of this event-loop turn, so fragments
   * that came in one socket read are all stamped before the first is copied to 40 children.
   *
   * A fragment that fails verification (relay/integrity.ts) is dropped here, before anything
   * else: the reason is returned so the caller can cut its sender off.
   */
  arrive(fragment: Chunk, receivedUs?: number): RejectReason | undefined {
    // A seq older than this node's window is a replay even when its signature is fresh: the node
    // has forgotten it, so it would be stored, forwarded and played a second time.
    const stale = fragment.seq < this.newestSeq - (this.init.keepChunks ?? KEEP_CHUNKS) + 1;
    const { verifier } = this.components;
    let rejected = verifier?.check(fragment);
    if (!rejected && verifier && stale) rejected = 'replay';
    if (rejected) {
      this.components.onRejected?.(fragment, rejected);
      return rejected;
    }
    const { intendedUs, arrivalUs } = this.components.link.arrive(
      this.id,
      fragment.senderId,
      fragment.sentAtUs,
      wireBytes(fragmentLength(fragment)),
      { receivedUs },
    );
    this.inbox.push({ fragment, intendedUs, arrivalUs });
    this.inboxDrain ??= setImmediate(() => this.drainInbox());
    return undefined;
  }

  private drainInbox(): void {
    this.inboxDrain = undefined;
    const batch = this.inbox;
    this.inbox = [];
    const { link } = this.components;
    for (const { fragment, intendedUs, arrivalUs } of batch) {
      // delay-only: the copies may reach the kernel only once the model has the bytes here.
      if (link.sendsOnArrival) {
        link.at(arrivalUs, () => this.accept(fragment, arrivalUs), 'chunk');
        continue;
      }
      this.forward(fragment, intendedUs);
      link.at(arrivalUs, () => this.deliver(fragment, arrivalUs));
    }
  }

  /** `forward` and `deliver` at once: for a fragment whose arrival time has come (`atUs`). */
  accept(fragment: Chunk, atUs: number): 'new' | 'complete' | 'duplicate' {
    const result = this.forward(fragment, atUs);
    this.deliver(fragment, atUs);
    return result;
  }

  /** Stores a fragment that arrives here at `arrivalUs` in the model and forwards it to children. */
  forward(fragment: Chunk, arrivalUs: number): 'new' | 'complete' | 'duplicate' {
    const seq = fragment.seq;
    const result = this.assembler.add(fragmentRef(fragment));
    if (result === 'duplicate') return result;
    let stored = this.store.get(seq);
    if (!stored) {
      stored = { fragments: [], arrivals: [] };
      this.store.set(seq, stored);
      if (seq > this.newestSeq) {
        this.newestSeq = seq;
        this.evict();
      }
    }
    stored.fragments.push(fragment);
    stored.arrivals.push(arrivalUs);
    if (result === 'complete' && seq > this.newestCompleteSeq) this.newestCompleteSeq = seq;
    let position = 0;
    for (const child of this.children) if (child.wants(seq)) this.send(child, fragment, arrivalUs, true, position++);
    return result;
  }

  /** The emulated network has delivered `fragment` here at `arrivalUs`. */
  deliver(fragment: Chunk, arrivalUs: number): void {
    const result = this.delivered.add(fragmentRef(fragment));
    if (result === 'duplicate') return;
    this.onFragmentDelivered?.(fragment, arrivalUs);
    if (result !== 'complete') return;
    const chunk = this.delivered.lastCompleted!;
    const d = (arrivalUs - chunk.producedAtUs) / 1000;
    this.delayMs = this.delayMs === 0 ? d : this.delayMs + DELAY_EWMA_WEIGHT * (d - this.delayMs);
    this.onChunkComplete?.(fragment, arrivalUs, chunk);
  }

  /** The bytes of a complete chunk this node holds, in order (for recording what a viewer got). */
  chunkPayload(seq: number): Buffer | undefined {
    const stored = this.store.get(seq);
    if (!stored || !this.assembler.isComplete(seq)) return undefined;
    const total = this.assembler.totalBytes(seq) ?? 0;
    if (stored.fragments.some((f) => f.virtualLength > 0)) return undefined; // a synthetic chunk has no bytes
    const out = Buffer.alloc(total);
    for (const f of stored.fragments) out.set(f.payload, f.offset);
    return out;
  }

  /** Adds a child; sends what it asked for from the store, then live fragments as they come. */
  subscribe(opts: SubscribeOptions, sink: ChildSink): () => void {
    // A live joiner starts at the newest chunk held whole, so it can play at once: with frame-paced
    // production the newest chunk is usually still being made, a chunk-time from complete.
    const liveSeq = this.newestCompleteSeq >= 0 ? this.newestCompleteSeq : this.newestSeq;
    const fromSeq = opts.fromLive || opts.fromSeq === undefined ? Math.max(0, liveSeq) : opts.fromSeq;
    const child = new ChildStream(opts.childId, opts.priority ?? 0, fromSeq, opts.toSeq, sink);
    // Highest priority first; among equals, the earlier subscriber first.
    const at = this.children.findIndex((c) => c.priority < child.priority);
    if (at < 0) this.children.push(child);
    else this.children.splice(at, 0, child);
    const seqs = [...this.store.keys()].filter((s) => child.wants(s)).sort((a, b) => a - b);
    for (const s of seqs) {
      const stored = this.store.get(s)!;
      stored.fragments.forEach((f, i) => {
        this.send(child, f, stored.arrivals[i]!, false);
      });
    }
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

  /**
   * Queues `fragment` (here from `arrivalUs` on) to `child`. Live forwarding follows the chunk
   * schedule (children served in priority order); backlog for a resuming child goes out as a plain
   * queue from now.
   */
  private send(child: ChildStream, fragment: Chunk, arrivalUs: number, live: boolean, position?: number): void {
    if (child.queue.length + child.held >= (this.init.maxChildQueueFragments ?? MAX_CHILD_QUEUE_FRAGMENTS)) {
      child.fail(new ChildTooSlowError(child.id, child.queue.length + child.held));
      this.unsubscribe(child);
      return;
    }
    const { link } = this.components;
    const bytes = wireBytes(fragmentLength(fragment));
    let out: Chunk = {
      ...fragment,
      hops: fragment.hops + 1,
      senderId: this.id,
      sentAtUs: live
        ? link.departFragment(
            this.id,
            child.id,
            { seq: fragment.seq, offset: fragment.offset, length: bytes, totalBytes: fragment.totalBytes, position },
            arrivalUs,
          )
        : link.depart(this.id, bytes, Math.max(arrivalUs, link.nowUs())),
      viaPeer: fragment.viaPeer || this.init.role === 'peer',
    };
    if (this.misbehave) {
      const sent = this.misbehave(out, child.id);
      if (!sent) return;
      out = sent;
    }
    this.sentBytes += bytes;
    // Only a relay with a wide fan-out holds copies back: its bursts are what cost milliseconds of
    // CPU, and holding costs the receiver slack (a peer's few copies leave at once).
    const handOverUs =
      this.children.length > (this.init.holdMinChildren ?? HOLD_MIN_CHILDREN)
        ? link.handOverUs(this.id, child.id, out.sentAtUs)
        : 0;
    child.push(out, handOverUs, link);
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
    this.delivered.forgetBefore(oldest);
  }
}

/** Which bytes of which chunk a fragment carries (real or virtual). */
function fragmentRef(f: Chunk): FragmentRef {
  return {
    seq: f.seq,
    offset: f.offset,
    length: fragmentLength(f),
    totalBytes: f.totalBytes,
    producedAtUs: f.producedAtUs,
  };
}
