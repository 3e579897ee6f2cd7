// The origin: a relay node fed by a broadcaster. In frame-paced (progressive) production the
// broadcaster releases each part of a chunk as it is made (the synthetic one on the stream's
// release schedule, real video as ffmpeg writes it) and the origin forwards it at once; in
// segment production the whole chunk goes out when it is complete. Each part crosses the emulated
// broadcaster → origin link stamped with when it was made, each fragment signed on its own
// (relay/integrity.ts) so every relay can verify it before forwarding; the chunk's last part
// carries its size. From there the origin's relay fans it out.
import type { Chunk } from '../gen/livepath/v1/chunk.js';
import type { RunPlan } from '../core/types.js';
import { chunkReleases } from '../core/production.js';
import type { Clock } from '../core/clock.js';
import type { LinkEmulator } from '../linkemu/emulator.js';
import { RelayNode } from '../relay/node.js';
import { wireBytes } from '../core/chunks.js';
import { chunkCount } from '../results/chunks.js';
import type { FragmentSigner } from '../relay/integrity.js';
import { fragmentRanges, isKeyframe, syntheticPayload } from './synthetic.js';

const EMPTY = Buffer.alloc(0);

/** A chunk as a broadcaster hands it to the origin when it is complete. */
export interface SourceChunk {
  /** the whole chunk's bytes; empty for a virtual chunk */
  payload: Buffer;
  /** set for a virtual chunk (synthetic stream): its size, with no bytes to carry */
  virtualBytes?: number;
  keyframe: boolean;
  /** when its last byte was made */
  producedAtUs: number;
  durationUs: number;
}

/** Bytes appended to the chunk in progress, made at `producedAtUs` (a frame, or what ffmpeg wrote). */
export interface SourcePart {
  payload: Buffer;
  virtualBytes?: number;
  producedAtUs: number;
  keyframe: boolean;
  /** the chunk's size when the source already knows it (synthetic); real video learns it at the cut */
  chunkBytes?: number;
}

/** Where a source hands its chunks: parts as they are made (optional), then each whole chunk. */
export interface SourceSink {
  part(p: SourcePart): void;
  emit(c: SourceChunk): void;
  end(reason?: Error): void;
}

/**
 * Where the origin's chunks come from: the synthetic generator, or real video (RTMP / a file
 * through ffmpeg). A source may call `part` with the bytes of the chunk in progress as they are
 * made; it calls `emit` with each complete chunk (whose bytes not yet given as parts are its last
 * part) and `end` when it has no more.
 */
export interface ChunkSource {
  start(atUs: number, sink: SourceSink): void;
  stop(): void;
}

export interface OriginInit {
  plan: RunPlan;
}

export interface OriginComponents {
  clock: Clock;
  link: LinkEmulator;
  /** the origin's key pair (generated at start, or loaded from --signing-key) */
  signer: FragmentSigner;
  /** default: the synthetic generator of the scenario's stream */
  source?: ChunkSource;
}

/** Timers as the synthetic source uses them (tests drive them on a virtual clock). */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * The synthetic broadcaster: releases each chunk on the stream's schedule (see
 * core/production.ts): frame by frame in progressive production, whole at its end in segment.
 * Its chunks are virtual unless the plan's stream.payload is `real` (see Payload).
 */
export class SyntheticSource implements ChunkSource {
  private timer: unknown;
  private nextSeq = 0;

  constructor(
    private readonly plan: RunPlan,
    private readonly clock: Clock,
    private readonly timers: Timers = realTimers,
  ) {}

  get chunkCount(): number {
    return chunkCount(this.plan);
  }

  start(atUs: number, sink: SourceSink): void {
    const s = this.plan.stream;
    const real = s.payload === 'real';
    let bytes: Buffer = EMPTY;
    let releases = chunkReleases(s, 0, atUs);
    let next = 0;
    const step = () => {
      if (this.nextSeq >= this.chunkCount) {
        sink.end();
        return;
      }
      const r = releases[next]!;
      this.timer = this.timers.setTimeout(
        () => {
          // Stamped when it really happened: a late timer delays production, not the measurement.
          const producedAtUs = this.clock.nowUs();
          const keyframe = isKeyframe(s, r.seq);
          // Real payload: the chunk's bytes are made whole at its first release and handed out in parts.
          if (real && r.index === 0) bytes = syntheticPayload(s.streamId, r.seq, s.chunkBytes);
          if (r.last) {
            this.nextSeq++;
            sink.emit({
              payload: real ? bytes : EMPTY,
              ...(!real && { virtualBytes: s.chunkBytes }),
              keyframe,
              producedAtUs,
              durationUs: s.chunkDurationUs,
            });
            releases = chunkReleases(s, this.nextSeq, atUs);
            next = 0;
          } else {
            sink.part({
              payload: real ? bytes.subarray(r.offset, r.offset + r.bytes) : EMPTY,
              ...(!real && { virtualBytes: r.bytes }),
              producedAtUs,
              keyframe,
              chunkBytes: s.chunkBytes,
            });
            next++;
          }
          step();
        },
        Math.max(0, Math.round((r.atUs - this.clock.nowUs()) / 1000)),
      );
    };
    step();
  }

  stop(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export class Origin {
  readonly node: RelayNode;
  private readonly source: ChunkSource;
  private nextSeq = 0;
  /** bytes of the chunk in progress already released as parts */
  private sentBytes = 0;
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
    this.source = c.source ?? new SyntheticSource(init.plan, c.clock);
  }

  /** Chunks the scenario's broadcast lasts (the synthetic source's count). */
  get chunkCount(): number {
    return chunkCount(this.init.plan);
  }

  /** Starts the broadcast at `atUs` (the instant chunk 0 begins). */
  start(atUs: number): void {
    this.source.start(atUs, {
      part: (p) => this.part(p),
      emit: (c) => this.produce(c),
      end: (reason) => this.onFinished?.(reason),
    });
  }

  stop(): void {
    this.source.stop();
  }

  /** Bytes of the chunk in progress: forwarded now when frame-paced, else kept for the chunk's end. */
  private part(p: SourcePart): void {
    if (this.init.plan.stream.production !== 'progressive') return;
    const bytes = p.virtualBytes ?? p.payload.length;
    if (bytes === 0) return;
    this.release(this.nextSeq, this.sentBytes, p, p.chunkBytes ?? 0);
    this.sentBytes += bytes;
  }

  /** The chunk is complete: releases what the parts did not (all of it in segment mode). */
  private produce(chunk: SourceChunk): void {
    const seq = this.nextSeq++;
    const virtual = chunk.virtualBytes !== undefined;
    const totalBytes = chunk.virtualBytes ?? chunk.payload.length;
    const from = Math.min(this.sentBytes, totalBytes);
    this.sentBytes = 0;
    const rest: SourcePart = {
      payload: virtual ? EMPTY : chunk.payload.subarray(from),
      ...(virtual && { virtualBytes: totalBytes - from }),
      producedAtUs: chunk.producedAtUs,
      keyframe: chunk.keyframe,
    };
    this.release(seq, from, rest, totalBytes, chunk.durationUs);
    this.produced++;
    this.onProduced?.(seq, chunk.producedAtUs);
  }

  /**
   * Sends bytes [offset, offset + part's bytes) of chunk `seq` as fragments over the broadcaster →
   * origin link, all made at the part's time, each signed. A part with no bytes (the end of a
   * chunk whose bytes all left as parts) is one zero-length fragment, so the chunk's end is told.
   */
  private release(
    seq: number,
    offset: number,
    p: SourcePart,
    totalBytes: number,
    durationUs = this.init.plan.stream.chunkDurationUs,
  ): void {
    const { plan } = this.init;
    const s = plan.stream;
    const virtual = p.virtualBytes !== undefined;
    const bytes = p.virtualBytes ?? p.payload.length;
    const ranges = bytes > 0 ? fragmentRanges(bytes, s.fragmentBytes) : [{ offset: 0, length: 0 }];
    // All of a part is here now, however long forwarding the first fragments to the children takes.
    const receivedUs = this.c.clock.nowUs();
    ranges.forEach((r) => {
      const fragment: Chunk = {
        streamId: s.streamId,
        seq,
        producedAtUs: p.producedAtUs,
        durationUs,
        payload: virtual ? EMPTY : p.payload.subarray(r.offset, r.offset + r.length),
        virtualLength: virtual ? r.length : 0,
        keyframe: p.keyframe,
        signature: EMPTY,
        hops: 0,
        offset: offset + r.offset,
        totalBytes,
        sentAtUs: this.c.link.depart(plan.broadcasterId, wireBytes(r.length), p.producedAtUs),
        senderId: plan.broadcasterId,
        viaPeer: false,
      };
      fragment.signature = this.c.signer.sign(fragment);
      this.node.arrive(fragment, receivedUs);
    });
  }
}
