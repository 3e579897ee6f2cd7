// A viewer: a relay node (so it can have children on the peer path) that records, for every
// chunk it completes, the delay from production to its last byte, against its bound.
import type { Chunk } from '../gen/livepath/v1/chunk.js';
import type { ViewerPlan } from '../core/types.js';
import type { Clock } from '../linkemu/clock.js';
import type { LinkEmulator } from '../linkemu/emulator.js';
import { RelayNode } from '../relay/node.js';
import { ParentLink, type ClientPool, type ParentRef } from '../relay/client.js';
import type { ChunkRecord } from './records.js';

export interface ViewerInit {
  plan: ViewerPlan;
  streamId: string;
}

export interface ViewerComponents {
  clock: Clock;
  link: LinkEmulator;
  pool: ClientPool;
  record: (r: ChunkRecord) => void;
  event?: (kind: string, detail: string) => void;
}

export class Viewer {
  readonly node: RelayNode;
  readonly parentLink: ParentLink;
  /** seqs completed, for loss accounting */
  received = 0;
  firstSeq: number | undefined;
  joinedAtUs: number | undefined;
  firstChunkAtUs: number | undefined;

  constructor(
    readonly init: ViewerInit,
    private readonly c: ViewerComponents,
  ) {
    this.node = new RelayNode({ id: init.plan.id, role: 'peer' }, { link: c.link });
    this.node.onChunkComplete = (last, actualUs) => this.complete(last, actualUs);
    this.parentLink = new ParentLink(
      { streamId: init.streamId, fromLive: true },
      {
        node: this.node,
        link: c.link,
        clock: c.clock,
        pool: c.pool,
        onParentLost: (p, e) => c.event?.('parent-lost', `${p.id}: ${e.message.split('\n')[0]}`),
      },
    );
  }

  get id(): string {
    return this.init.plan.id;
  }

  join(parent: ParentRef): void {
    this.joinedAtUs = this.c.clock.nowUs();
    this.parentLink.attach(parent);
  }

  leave(): void {
    this.parentLink.stop();
    this.node.endAll();
  }

  private complete(last: Chunk, actualUs: number): void {
    if (this.firstSeq === undefined) {
      this.firstSeq = last.seq;
      this.firstChunkAtUs = actualUs;
    }
    this.received++;
    const delayMs = (actualUs - last.producedAtUs) / 1000;
    this.c.record({
      viewer: this.id,
      seq: last.seq,
      producedAtUs: last.producedAtUs,
      receivedAtUs: actualUs,
      delayMs,
      boundMs: this.init.plan.boundMs,
      path: last.viaPeer ? 'peer' : 'cdn',
      hops: last.hops,
      parent: last.senderId,
    });
  }
}
