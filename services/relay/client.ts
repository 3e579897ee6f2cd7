// A node's link to its parent: subscribes, passes each fragment through the emulated link into
// the node, and on failure (or on a re-parent) resubscribes from the node's next missing seq, so
// a viewer that loses its parent loses no chunk the new parent still holds.
import type * as grpc from '@grpc/grpc-js';
import type { Chunk } from '../gen/livepath/v1/chunk.js';
import { RelayClient } from '../gen/livepath/v1/relay.js';
import type { LinkEmulator } from '../linkemu/emulator.js';
import type { Clock } from '../core/clock.js';
import { KEEP_CHUNKS, RECONNECT_MAX_MS, RECONNECT_MIN_MS } from './constants.js';
import type { RelayNode } from './node.js';
import type { RejectReason } from './integrity.js';
import { GrpcClientPool } from '../runtime/grpc.js';

/** One Relay client per address, shared by every virtual node of a process. */
export class ClientPool extends GrpcClientPool<RelayClient> {
  constructor() {
    super(RelayClient, {
      'grpc.initial_reconnect_backoff_ms': RECONNECT_MIN_MS,
      'grpc.max_reconnect_backoff_ms': RECONNECT_MAX_MS,
    });
  }
}

export interface ParentRef {
  id: string;
  address: string;
}

export interface ParentLinkInit {
  streamId: string;
  /** start at the parent's newest chunk instead of seq 0 */
  fromLive: boolean;
  priority?: number;
}

export interface ParentLinkComponents {
  node: RelayNode;
  link: LinkEmulator;
  clock: Clock;
  pool: ClientPool;
  /** Told when the stream to the current parent fails (the tracker may want to know). */
  onParentLost?: (parent: ParentRef, error: Error) => void;
  /**
   * Told when the parent sent a fragment that failed verification: the stream is cut. Returns
   * true when the caller finds another parent; otherwise (or without a handler) the link retries
   * the same parent after its back-off, as after a failure.
   */
  onRejected?: (parent: ParentRef, reason: RejectReason) => boolean;
  /** Told on each (re)subscription: the seq asked from. */
  onSubscribed?: (parent: ParentRef, fromSeq: number | 'live') => void;
}

export class ParentLink {
  private parent: ParentRef | undefined;
  private call: grpc.ClientReadableStream<Chunk> | undefined;
  private stopped = false;
  private backoffMs = RECONNECT_MIN_MS;
  private retry: NodeJS.Timeout | undefined;
  /** the first seq this node wants; set on the first chunk received */
  private firstSeq: number | undefined;
  private resumeSeq: number | undefined;
  private priority: number;
  /** when the current parent last sent a fragment that passed (µs; 0 = never) */
  lastFragmentAtUs = 0;

  constructor(
    private readonly init: ParentLinkInit,
    private readonly c: ParentLinkComponents,
  ) {
    this.priority = init.priority ?? 0;
  }

  get current(): ParentRef | undefined {
    return this.parent;
  }

  /** Subscribes to `parent` (dropping any previous parent), from the next missing seq. */
  attach(parent: ParentRef, priority?: number): void {
    this.stopped = false;
    this.parent = parent;
    if (priority !== undefined) this.priority = priority;
    this.backoffMs = RECONNECT_MIN_MS;
    this.subscribe();
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.cancel();
  }

  /** The first seq this node received (its live edge when it joined). */
  get startSeq(): number | undefined {
    return this.firstSeq;
  }

  /** The lowest seq at or after the first one received that this node does not hold whole. */
  nextMissingSeq(): number | undefined {
    if (this.firstSeq === undefined) return undefined;
    // A pointer that only moves forward: the node forgets chunks older than its window, and a
    // scan from the first seq would stop at a forgotten one and ask a new parent for ~40 chunks
    // of backlog it already had (seconds of a shared uplink).
    const newest = this.c.node.newest;
    let s = Math.max(this.resumeSeq ?? this.firstSeq, newest - KEEP_CHUNKS + 1, this.firstSeq);
    while (s <= newest && this.c.node.hasComplete(s)) s++;
    this.resumeSeq = s;
    return s;
  }

  private cancel(): void {
    const call = this.call;
    this.call = undefined;
    if (call) {
      call.removeAllListeners('data');
      call.cancel();
    }
  }

  private subscribe(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    this.cancel();
    const parent = this.parent;
    if (!parent || this.stopped) return;
    const next = this.nextMissingSeq();
    const fromLive = next === undefined && this.init.fromLive;
    const call = this.c.pool.get(parent.address).subscribe({
      streamId: this.init.streamId,
      subscriberId: this.c.node.id,
      publisherId: parent.id,
      fromSeq: next ?? 0,
      fromLive,
      toSeq: 0,
      priority: this.priority,
    });
    this.call = call;
    this.c.onSubscribed?.(parent, fromLive ? 'live' : (next ?? 0));
    call.on('data', (f: Chunk) => {
      this.backoffMs = RECONNECT_MIN_MS;
      if (this.call !== call) return; // cut off by an earlier fragment of this read
      const rejected = this.c.node.arrive(f);
      if (rejected) return this.cutOff(parent, call, rejected);
      if (this.firstSeq === undefined) this.firstSeq = f.seq;
      this.lastFragmentAtUs = this.c.clock.nowUs();
    });
    const onEnd = (err: Error) => {
      if (this.call !== call || this.stopped) return;
      this.call = undefined;
      this.c.onParentLost?.(parent, err);
      this.retry = setTimeout(() => this.subscribe(), this.backoffMs);
      this.backoffMs = Math.min(RECONNECT_MAX_MS, this.backoffMs * 2);
    };
    call.on('error', onEnd);
    call.on('end', () => onEnd(new Error(`parent ${parent.id} ended the stream`)));
  }

  /** The parent sent a bad fragment: nothing more is taken from it. */
  private cutOff(parent: ParentRef, call: grpc.ClientReadableStream<Chunk>, reason: RejectReason): void {
    if (this.call !== call) return;
    this.cancel();
    if (this.c.onRejected?.(parent, reason)) return;
    this.retry = setTimeout(() => this.subscribe(), this.backoffMs);
    this.backoffMs = Math.min(RECONNECT_MAX_MS, this.backoffMs * 2);
  }
}
