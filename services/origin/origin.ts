// The origin: a relay node fed by a broadcaster. The synthetic broadcaster produces chunk k when
// its duration has elapsed, stamps produced_at_us, signs it, and sends it as fragments over the
// emulated broadcaster → origin link; from there the origin's relay fans it out.
import type { Chunk } from '../gen/livepath/v1/chunk.js';
import type { RunPlan } from '../core/types.js';
import type { Clock } from '../linkemu/clock.js';
import type { LinkEmulator } from '../linkemu/emulator.js';
import { RelayNode } from '../relay/node.js';
import { wireBytes } from '../relay/constants.js';
import { ChunkSigner } from './signer.js';
import { fragmentRanges, isKeyframe, syntheticPayload } from './synthetic.js';

export interface OriginInit {
  plan: RunPlan;
}

export interface OriginComponents {
  clock: Clock;
  link: LinkEmulator;
}

export class Origin {
  readonly node: RelayNode;
  private readonly signer: ChunkSigner;
  private timer: NodeJS.Timeout | undefined;
  private startUs = 0;
  private nextSeq = 0;
  /** chunks produced so far */
  produced = 0;
  /** called after each chunk is produced */
  onProduced: ((seq: number, producedAtUs: number) => void) | undefined;
  onFinished: (() => void) | undefined;

  constructor(
    private readonly init: OriginInit,
    private readonly c: OriginComponents,
  ) {
    this.node = new RelayNode({ id: init.plan.originId, role: 'origin' }, { link: c.link });
    this.signer = new ChunkSigner(init.plan.seed, init.plan.stream.streamId);
  }

  get chunkCount(): number {
    const s = this.init.plan.stream;
    return Math.floor((this.init.plan.durationS * 1e6) / s.chunkDurationUs);
  }

  /** Starts the broadcast at `atUs` (the instant chunk 0 begins; it is produced one duration later). */
  start(atUs: number): void {
    this.startUs = atUs;
    this.scheduleNext();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private scheduleNext(): void {
    if (this.nextSeq >= this.chunkCount) {
      this.onFinished?.();
      return;
    }
    const dueUs = this.startUs + (this.nextSeq + 1) * this.init.plan.stream.chunkDurationUs;
    const waitMs = Math.max(0, (dueUs - this.c.clock.nowUs()) / 1000);
    this.timer = setTimeout(() => {
      this.produce(this.nextSeq++);
      this.scheduleNext();
    }, Math.round(waitMs));
  }

  private produce(seq: number): void {
    const { plan } = this.init;
    const s = plan.stream;
    const producedAtUs = this.c.clock.nowUs();
    const payload = syntheticPayload(s.streamId, seq, s.chunkBytes);
    const signature = this.signer.sign(s.streamId, seq, producedAtUs, payload);
    const ranges = fragmentRanges(s.chunkBytes, s.fragmentBytes);
    ranges.forEach((r, i) => {
      const fragment: Chunk = {
        streamId: s.streamId,
        seq,
        producedAtUs,
        durationUs: s.chunkDurationUs,
        payload: payload.subarray(r.offset, r.offset + r.length),
        keyframe: isKeyframe(s, seq),
        signature: i === ranges.length - 1 ? signature : Buffer.alloc(0),
        hops: 0,
        offset: r.offset,
        totalBytes: s.chunkBytes,
        sentAtUs: this.c.link.depart(plan.broadcasterId, wireBytes(r.length)),
        senderId: plan.broadcasterId,
        viaPeer: false,
      };
      this.c.link.receive(this.node.id, plan.broadcasterId, fragment.sentAtUs, wireBytes(r.length), (actualUs) => {
        this.node.accept(fragment, actualUs);
      });
    });
    this.produced++;
    this.onProduced?.(seq, producedAtUs);
  }
}
