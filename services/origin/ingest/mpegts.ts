// Sans-IO MPEG-TS chunker: takes the bytes of a transport stream as they arrive (any read sizes)
// and returns whole chunks cut on packet boundaries at ≈ the chunk duration, aligned to video
// keyframes where possible. Each chunk starts with the latest PAT and PMT, so any chunk can start
// decoding; the continuity counters of those tables are renumbered so the concatenation of all
// chunks (a viewer's recording) is itself a clean transport stream. No clocks: callers pass `nowUs`.
import {
  KEYFRAME_EARLY_FRACTION,
  MAX_RESYNC_BYTES,
  PES_CLOCK_HZ,
  PTS_WRAP,
  TS_PACKET_BYTES,
  TS_SYNC_BYTE,
} from './constants.js';

/** A chunk cut from the transport stream. */
export interface TsChunk {
  payload: Buffer;
  /** the chunk begins with a video keyframe (random access point) */
  keyframe: boolean;
  /** media time from the chunk's first frame to the next chunk's first frame */
  durationUs: number;
  /** media time of the chunk's first frame, relative to the stream's first frame */
  mediaOffsetUs: number;
  /** when the chunk's first packet reached the chunker (the caller's clock) */
  firstByteAtUs: number;
}

/** Stream types that carry video (ISO/IEC 13818-1 Table 2-34 and common registrations). */
const VIDEO_STREAM_TYPES = new Set([0x01, 0x02, 0x10, 0x1b, 0x24, 0x42, 0xd1, 0xea]);
/** Audio stream types: MPEG audio, AAC (ADTS/LATM), AC-3, E-AC-3. */
const AUDIO_STREAM_TYPES = new Set([0x03, 0x04, 0x0f, 0x11, 0x81, 0x87]);

export interface TsChunkerInit {
  /** nominal chunk duration (the scenario's) */
  chunkDurationUs: number;
}

/** What the chunker learnt from the PSI tables. */
export interface TsProgramInfo {
  pmtPid?: number;
  videoPid?: number;
  audioPids: number[];
}

export class TsChunker {
  private carry: Buffer = Buffer.alloc(0);
  private pat: Buffer | undefined;
  private pmt: Buffer | undefined;
  readonly program: TsProgramInfo = { audioPids: [] };
  /** renumbered continuity counters of PAT / PMT */
  private readonly psiCc = new Map<number, number>();
  private current: Buffer[] = [];
  /** packets of `current` already handed out by `takeNew` */
  private taken = 0;
  private currentStartTicks: number | undefined;
  private currentKeyframe = false;
  private currentFirstByteAtUs = 0;
  private firstTicks: number | undefined;
  private lastTicks: number | undefined;
  private lastFrameTicks = 0;
  private unwrapBase = 0;
  private prevRaw: number | undefined;
  /** packets dropped because they did not start with the sync byte */
  droppedBytes = 0;
  /** packets seen */
  packets = 0;

  constructor(private readonly init: TsChunkerInit) {}

  /** Feeds bytes received at `nowUs`; returns the chunks this completed (usually 0 or 1). */
  push(data: Buffer, nowUs: number): TsChunk[] {
    const out: TsChunk[] = [];
    let buf = this.carry.length > 0 ? Buffer.concat([this.carry, data]) : data;
    let off = 0;
    while (buf.length - off >= TS_PACKET_BYTES) {
      if (
        buf[off] !== TS_SYNC_BYTE ||
        (buf.length - off >= 2 * TS_PACKET_BYTES && buf[off + TS_PACKET_BYTES] !== TS_SYNC_BYTE)
      ) {
        // Lost sync: skip to the next byte that starts two consecutive packets (or the last candidate).
        off++;
        this.droppedBytes++;
        continue;
      }
      const packet = buf.subarray(off, off + TS_PACKET_BYTES);
      off += TS_PACKET_BYTES;
      const done = this.packet(packet, nowUs);
      if (done) out.push(done);
    }
    buf = buf.subarray(off);
    if (buf.length > MAX_RESYNC_BYTES) {
      this.droppedBytes += buf.length;
      buf = Buffer.alloc(0);
    }
    // Copy: `data` belongs to the caller (a stream's reused buffer).
    this.carry = Buffer.from(buf);
    return out;
  }

  /**
   * The packets appended to the chunk in progress since the last call (frame-paced forwarding:
   * the origin sends them on at once). The chunk `push` later returns for it still holds them.
   */
  takeNew(): { payload: Buffer; keyframe: boolean } {
    const fresh = this.current.slice(this.taken);
    this.taken = this.current.length;
    return { payload: fresh.length > 0 ? Buffer.concat(fresh) : Buffer.alloc(0), keyframe: this.currentKeyframe };
  }

  /** The stream ended: returns the chunk in progress, if it holds any media. */
  flush(nowUs: number): TsChunk | undefined {
    void nowUs;
    if (this.current.length === 0 || this.currentStartTicks === undefined) return undefined;
    // The last chunk lasts until its last frame plus one frame interval.
    const endTicks = (this.lastTicks ?? this.currentStartTicks) + this.lastFrameTicks;
    return this.cut(endTicks);
  }

  private packet(p: Buffer, nowUs: number): TsChunk | undefined {
    this.packets++;
    const pusi = (p[1]! & 0x40) !== 0;
    const pid = ((p[1]! & 0x1f) << 8) | p[2]!;
    const afc = (p[3]! >> 4) & 0x3;
    const hasAf = (afc & 0x2) !== 0;
    const hasPayload = (afc & 0x1) !== 0;
    const afLen = hasAf ? p[4]! : 0;
    const payloadAt = hasAf ? 5 + afLen : 4;
    if (payloadAt > TS_PACKET_BYTES) return undefined; // malformed: ignore
    const randomAccess = hasAf && afLen > 0 && (p[5]! & 0x40) !== 0;

    if (pid === 0 && pusi && hasPayload) {
      this.parsePat(p.subarray(payloadAt));
      this.pat = Buffer.from(p);
      return this.append(p, pid, nowUs);
    }
    if (pid === this.program.pmtPid && pusi && hasPayload) {
      this.parsePmt(p.subarray(payloadAt));
      this.pmt = Buffer.from(p);
      return this.append(p, pid, nowUs);
    }
    // The clock of the cuts: the video's frames, or the first audio track's when there is no video.
    const clockPid = this.program.videoPid ?? this.program.audioPids[0];
    if (pid === clockPid && pusi && hasPayload) {
      const ticks = this.pesTicks(p.subarray(payloadAt));
      if (ticks !== undefined) {
        const keyframe = pid === this.program.videoPid && randomAccess;
        let done: TsChunk | undefined;
        if (this.currentStartTicks !== undefined && this.shouldCut(ticks, keyframe)) done = this.cut(ticks);
        if (this.lastTicks !== undefined && ticks > this.lastTicks) this.lastFrameTicks = ticks - this.lastTicks;
        this.lastTicks = ticks;
        this.firstTicks ??= ticks;
        if (this.currentStartTicks === undefined) {
          // Media before the first frame (tables, audio) joins the first chunk.
          this.currentStartTicks = ticks;
          this.currentKeyframe = keyframe;
          if (this.current.length === 0) this.currentFirstByteAtUs = nowUs;
        }
        this.append(p, pid, nowUs);
        return done;
      }
    }
    return this.append(p, pid, nowUs);
  }

  private shouldCut(ticks: number, keyframe: boolean): boolean {
    const elapsedUs = ((ticks - this.currentStartTicks!) * 1e6) / PES_CLOCK_HZ;
    const target = this.init.chunkDurationUs;
    return keyframe ? elapsedUs >= target * (1 - KEYFRAME_EARLY_FRACTION) : elapsedUs >= target;
  }

  /** Appends a packet to the chunk in progress; a new chunk begins with the tables. */
  private append(p: Buffer, pid: number, nowUs: number): undefined {
    if (this.current.length === 0) {
      this.currentFirstByteAtUs = nowUs;
      if (pid !== 0 && this.pat && this.pmt) {
        this.current.push(
          this.renumber(Buffer.from(this.pat), 0),
          this.renumber(Buffer.from(this.pmt), this.program.pmtPid!),
        );
      }
    }
    if (pid === 0 || pid === this.program.pmtPid) this.current.push(this.renumber(Buffer.from(p), pid));
    else this.current.push(Buffer.from(p));
    return undefined;
  }

  /** Ends the chunk in progress at `endTicks` (the next chunk's first frame). */
  private cut(endTicks: number): TsChunk {
    const start = this.currentStartTicks!;
    const chunk: TsChunk = {
      payload: Buffer.concat(this.current),
      keyframe: this.currentKeyframe,
      durationUs: Math.max(0, Math.round(((endTicks - start) * 1e6) / PES_CLOCK_HZ)),
      mediaOffsetUs: Math.round(((start - (this.firstTicks ?? start)) * 1e6) / PES_CLOCK_HZ),
      firstByteAtUs: this.currentFirstByteAtUs,
    };
    this.current = [];
    this.taken = 0;
    this.currentStartTicks = undefined;
    this.currentKeyframe = false;
    return chunk;
  }

  /** Sets the continuity counter of a PSI packet to the next of our own sequence for its PID. */
  private renumber(p: Buffer, pid: number): Buffer {
    const cc = this.psiCc.get(pid) ?? 0;
    p[3] = (p[3]! & 0xf0) | cc;
    this.psiCc.set(pid, (cc + 1) & 0xf);
    return p;
  }

  private parsePat(payload: Buffer): void {
    const s = section(payload, 0x00);
    if (!s) return;
    for (let i = 8; i + 4 <= s.length - 4; i += 4) {
      const programNumber = (s[i]! << 8) | s[i + 1]!;
      const pid = ((s[i + 2]! & 0x1f) << 8) | s[i + 3]!;
      // Program 0 is the network information table; the first real program is the one we carry.
      if (programNumber !== 0) {
        this.program.pmtPid = pid;
        return;
      }
    }
  }

  private parsePmt(payload: Buffer): void {
    const s = section(payload, 0x02);
    if (!s) return;
    const programInfoLength = ((s[10]! & 0x0f) << 8) | s[11]!;
    let i = 12 + programInfoLength;
    let videoPid: number | undefined;
    const audioPids: number[] = [];
    while (i + 5 <= s.length - 4) {
      const streamType = s[i]!;
      const pid = ((s[i + 1]! & 0x1f) << 8) | s[i + 2]!;
      const esInfoLength = ((s[i + 3]! & 0x0f) << 8) | s[i + 4]!;
      if (VIDEO_STREAM_TYPES.has(streamType)) videoPid ??= pid;
      else if (AUDIO_STREAM_TYPES.has(streamType)) audioPids.push(pid);
      i += 5 + esInfoLength;
    }
    if (videoPid !== undefined) this.program.videoPid = videoPid;
    if (audioPids.length > 0) this.program.audioPids = audioPids;
  }

  /** Decode timestamp (else presentation timestamp) of a PES header, unwrapped to a monotonic count. */
  private pesTicks(payload: Buffer): number | undefined {
    if (payload.length < 14 || payload[0] !== 0 || payload[1] !== 0 || payload[2] !== 1) return undefined;
    const flags = payload[7]! >> 6;
    if ((flags & 0x2) === 0) return undefined;
    // DTS (when present) follows decode order, which is the order frames arrive in.
    const raw = flags === 0x3 && payload.length >= 19 ? readTimestamp(payload, 14) : readTimestamp(payload, 9);
    if (this.prevRaw !== undefined && raw < this.prevRaw - PTS_WRAP / 2) this.unwrapBase += PTS_WRAP;
    this.prevRaw = raw;
    return raw + this.unwrapBase;
  }
}

/** The section of a PSI packet's payload (after pointer_field), without its CRC check, if it fits one packet. */
function section(payload: Buffer, tableId: number): Buffer | undefined {
  const pointer = payload[0] ?? 0;
  const s = payload.subarray(1 + pointer);
  if (s.length < 3 || s[0] !== tableId) return undefined;
  const sectionLength = ((s[1]! & 0x0f) << 8) | s[2]!;
  if (3 + sectionLength > s.length) return undefined;
  return s.subarray(0, 3 + sectionLength);
}

function readTimestamp(b: Buffer, at: number): number {
  return (
    ((b[at]! >> 1) & 0x07) * 2 ** 30 +
    ((b[at + 1]! << 22) | ((b[at + 2]! >> 1) << 15) | (b[at + 3]! << 7) | (b[at + 4]! >> 1))
  );
}

/** Reads a whole transport stream and returns its program info and whether its first video packet is a keyframe (for tests and `play`). */
export function probeTs(data: Buffer): {
  program: TsProgramInfo;
  startsWithKeyframe: boolean | undefined;
  packets: number;
} {
  const c = new TsChunker({ chunkDurationUs: Number.MAX_SAFE_INTEGER });
  c.push(data, 0);
  const chunk = c.flush(0);
  return { program: c.program, startsWithKeyframe: chunk?.keyframe, packets: c.packets };
}
