// The origin: a relay node fed by a broadcaster. The synthetic broadcaster produces chunk k when
// its duration has elapsed, stamps produced_at_us, signs it, and sends it as fragments over the
// emulated broadcaster → origin link; from there the origin's relay fans it out.
import type { Chunk } from '../gen/livepath/v1/chunk.js';
import type { RunPlan } from '../core/types.js';
import type { Clock } from '../core/clock.js';
import type { LinkEmulator } from '../linkemu/emulator.js';
import { RelayNode } from '../relay/node.js';
import { wireBytes } from '../relay/constants.js';
import { chunkCount } from '../results/chunks.js';
import { ChunkSigner } from './signer.js';
import { fragmentRanges, isKeyframe, virtualChunkDigest } from './synthetic.js';

const EMPTY = Buffer.alloc(0);

/** A chunk as a broadcaster hands it to the origin. */
export interface SourceChunk {
  /** the bytes; empty for a virtual chunk */
  payload: Buffer;
  /** set for a virtual chunk (synthetic stream): its size, with no bytes to carry */
  virtualBytes?: number;
  keyframe: boolean;
  producedAtUs: number;
  durationUs: number;
}

/**
 * Where the origin's chunks come from: the synthetic generator, or real video (RTMP / a file
 * through ffmpeg). A source calls `emit` for each complete chunk and `end` when it has no more.
 */
export interface ChunkSource {
  start(atUs: number, sink: { emit(c: SourceChunk): void; end(reason?: Error): void }): void;
  stop(): void;
}

export interface OriginInit {
  plan: RunPlan;
}

export interface OriginComponents {
  clock: Clock;
  link: LinkEmulator;
  /** default: the synthetic generator of the scenario's stream */
  source?: ChunkSource;
}

/** The synthetic broadcaster: chunk k is complete (produced) one chunk duration after it began. */
export class SyntheticSource implements ChunkSource {
  private timer: NodeJS.Timeout | undefined;
  private nextSeq = 0;

  constructor(
    private readonly plan: RunPlan,
    private readonly clock: Clock,
  ) {}

  get chunkCount(): number {
    return chunkCount(this.plan);
  }

  start(atUs: number, sink: { emit(c: SourceChunk): void; end(): void }): void {
    const s = this.plan.stream;
    const next = () => {
      if (this.nextSeq >= this.chunkCount) {
        sink.end();
        return;
      }
      const dueUs = atUs + (this.nextSeq + 1) * s.chunkDurationUs;
      this.timer = setTimeout(
        () => {
          const seq = this.nextSeq++;
          // Stamped when it really happened: a late timer delays production, not the measurement.
          const producedAtUs = this.clock.nowUs();
          sink.emit({
            payload: EMPTY,
            virtualBytes: s.chunkBytes,
            keyframe: isKeyframe(s, seq),
            producedAtUs,
            durationUs: s.chunkDurationUs,
          });
          next();
        },
        Math.max(0, Math.round((dueUs - this.clock.nowUs()) / 1000)),
      );
    };
    next();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export class Origin {
  readonly node: RelayNode;
  private readonly signer: ChunkSigner;
  private readonly source: ChunkSource;
  private nextSeq = 0;
  /** chunks produced so far */
  produced = 0;
  /** called after each chunk is produced */
  onProduced: ((seq: number, producedAtUs: number) => void) | undefined;
  /** called when the source has no more chunks (with the reason when it failed) */
  onFinished: ((reason?: Error) => void) | undefined;

  constructor(
    private readonly init: OriginInit,
    private readonly c: OriginComponents,
  ) {
    this.node = new RelayNode({ id: init.plan.originId, role: 'origin' }, { link: c.link });
    this.signer = new ChunkSigner(init.plan.seed, init.plan.stream.streamId);
    this.source = c.source ?? new SyntheticSource(init.plan, c.clock);
  }

  /** Chunks the scenario's broadcast lasts (the synthetic source's count). */
  get chunkCount(): number {
    return chunkCount(this.init.plan);
  }

  /** Starts the broadcast at `atUs` (the instant chunk 0 begins). */
  start(atUs: number): void {
    this.source.start(atUs, { emit: (c) => this.produce(c), end: (reason) => this.onFinished?.(reason) });
  }

  stop(): void {
    this.source.stop();
  }

  /** Signs a chunk and sends it as fragments over the emulated broadcaster → origin link. */
  private produce(chunk: SourceChunk): void {
    const { plan } = this.init;
    const s = plan.stream;
    const seq = this.nextSeq++;
    const virtual = chunk.virtualBytes !== undefined;
    const totalBytes = chunk.virtualBytes ?? chunk.payload.length;
    const signature = this.signer.sign(
      s.streamId,
      seq,
      chunk.producedAtUs,
      virtual ? virtualChunkDigest(s.streamId, seq, totalBytes) : chunk.payload,
    );
    const ranges = fragmentRanges(totalBytes, s.fragmentBytes);
    // The broadcaster hands the whole chunk over at once: every fragment is here now, however long
    // forwarding the first ones to the children takes.
    const receivedUs = this.c.clock.nowUs();
    ranges.forEach((r, i) => {
      const fragment: Chunk = {
        streamId: s.streamId,
        seq,
        producedAtUs: chunk.producedAtUs,
        durationUs: chunk.durationUs,
        payload: virtual ? EMPTY : chunk.payload.subarray(r.offset, r.offset + r.length),
        virtualLength: virtual ? r.length : 0,
        keyframe: chunk.keyframe,
        signature: i === ranges.length - 1 ? signature : Buffer.alloc(0),
        hops: 0,
        offset: r.offset,
        totalBytes,
        sentAtUs: this.c.link.depart(plan.broadcasterId, wireBytes(r.length), chunk.producedAtUs),
        senderId: plan.broadcasterId,
        viaPeer: false,
      };
      this.node.arrive(fragment, receivedUs);
    });
    this.produced++;
    this.onProduced?.(seq, chunk.producedAtUs);
  }
}
