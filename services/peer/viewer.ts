// A viewer: a relay node (so it can have children on the peer path) that records, for every
// chunk it completes, the delay from production to its last byte, against its bound.
import type { Chunk } from '../gen/livepath/v1/chunk.js';
import type { CompletedChunk } from '../core/chunks.js';
import { chunkBoundMs } from '../core/scenario/plan.js';
import type { ViewerPlan } from '../core/types.js';
import type { Clock } from '../core/clock.js';
import type { LinkEmulator } from '../linkemu/emulator.js';
import { RelayNode } from '../relay/node.js';
import { ParentLink, type ClientPool, type ParentRef } from '../relay/client.js';
import type { ChunkRecord } from '../results/chunks.js';
import type { EventKind } from '../results/events.js';
import type { FragmentVerifier, RejectReason } from '../relay/integrity.js';

export interface ViewerInit {
  plan: ViewerPlan;
  streamId: string;
}

export interface ViewerComponents {
  clock: Clock;
  link: LinkEmulator;
  pool: ClientPool;
  record: (r: ChunkRecord) => void;
  event?: (kind: EventKind, detail: string) => void;
  /** checks every fragment before it is stored, forwarded or played (relay/integrity.ts) */
  verifier?: FragmentVerifier;
  onRejected?: (fragment: Chunk, reason: RejectReason) => void;
  /** gets each completed chunk's bytes (--record: the viewer's .ts file) */
  recorder?: { chunk(c: { seq: number; keyframe: boolean; payload: Buffer }): void };
}

export class Viewer {
  readonly node: RelayNode;
  readonly parentLink: ParentLink;
  /** seqs completed, for loss accounting */
  received = 0;
  joinedAtUs: number | undefined;
  firstChunkAtUs: number | undefined;
  /** the stream's clock as this viewer learnt it from its first chunk: chunk k is produced at
   *  firstProducedUs + (k − firstSeq) × durationUs */
  timeline: { firstSeq: number; firstProducedUs: number; durationUs: number } | undefined;
  /** told when the stream from the current parent fails */
  onParentLost: (() => void) | undefined;
  /** told of each chunk completed (the peer-path policy's deadline check) */
  onChunk: ((seq: number, producedAtUs: number, durationUs: number) => void) | undefined;
  /**
   * told when the parent sent a fragment that failed verification (the stream is already cut);
   * returns true when it finds another parent, else the viewer retries the same one
   */
  onParentRejected: ((parent: ParentRef, reason: RejectReason) => boolean) | undefined;

  constructor(
    readonly init: ViewerInit,
    private readonly c: ViewerComponents,
  ) {
    this.node = new RelayNode(
      { id: init.plan.id, role: 'peer' },
      { link: c.link, verifier: c.verifier, onRejected: c.onRejected },
    );
    this.node.onChunkComplete = (last, actualUs, chunk) => this.complete(last, actualUs, chunk);
    this.parentLink = new ParentLink(
      { streamId: init.streamId, fromLive: true },
      {
        node: this.node,
        link: c.link,
        clock: c.clock,
        pool: c.pool,
        onParentLost: (p, e) => {
          c.event?.('parent-lost', `${p.id}: ${e.message.split('\n')[0]}`);
          this.onParentLost?.();
        },
        onRejected: (p, reason) => {
          c.event?.('rejected', `${p.id}: ${reason}`);
          return this.onParentRejected?.(p, reason) ?? false;
        },
      },
    );
  }

  get id(): string {
    return this.init.plan.id;
  }

  /** Joins (CDN path): subscribe to the edge from the live edge. */
  join(parent: ParentRef): void {
    this.joinedAtUs = this.c.clock.nowUs();
    this.parentLink.attach(parent);
  }

  /** (Re-)parents this viewer; it resumes from its next missing seq. */
  attach(parent: ParentRef, priority?: number): void {
    this.joinedAtUs ??= this.c.clock.nowUs();
    this.parentLink.attach(parent, priority);
  }

  /** Graceful departure: children see their stream end. */
  leave(): void {
    this.parentLink.stop();
    this.node.endAll();
  }

  /** Ungraceful: children see their stream fail, as if the host died. */
  kill(): void {
    this.parentLink.stop();
    this.node.abortAll();
  }

  private complete(last: Chunk, actualUs: number, chunk: CompletedChunk): void {
    if (this.timeline === undefined) {
      this.timeline = { firstSeq: last.seq, firstProducedUs: chunk.producedAtUs, durationUs: last.durationUs };
      this.firstChunkAtUs = actualUs;
    }
    this.received++;
    this.onChunk?.(last.seq, chunk.producedAtUs, last.durationUs);
    if (this.c.recorder) {
      const payload = this.node.chunkPayload(last.seq);
      if (payload) this.c.recorder.chunk({ seq: last.seq, keyframe: last.keyframe, payload });
    }
    // Chunk delay: last byte received − last byte produced; its bound charges the bytes of the
    // chunk's last release unit (the whole chunk in segment mode), as this chunk really had them.
    const delayMs = (actualUs - chunk.producedAtUs) / 1000;
    this.c.record({
      viewer: this.id,
      seq: last.seq,
      producedAtUs: chunk.producedAtUs,
      receivedAtUs: actualUs,
      delayMs,
      boundMs: chunkBoundMs(this.init.plan, chunk.lastReleaseBytes),
      path: last.viaPeer ? 'peer' : 'cdn',
      hops: last.hops,
      parent: last.senderId,
      bytes: chunk.totalBytes,
    });
  }
}
