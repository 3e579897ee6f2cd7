// Real video as a ChunkSource: ffmpeg writes MPEG-TS to its stdout — reading a file or a lavfi test
// source in real time and encoding it (file), or pulling the broadcaster's stream from nginx-rtmp
// as it is (rtmp) — and the TsChunker cuts it into chunks as the bytes arrive. What each read adds
// to the chunk in progress is handed on at once as a part (the origin forwards it when production
// is frame-paced); a chunk is produced (stamped) when its end is known at the origin, i.e. when
// the next chunk's first frame is there, and its bytes not yet handed on are its last part.
import { spawn, type ChildProcess } from 'node:child_process';
import type { StreamPlan } from '../../core/types.js';
import type { Clock } from '../../core/clock.js';
import type { ChunkSource, SourceChunk, SourceSink } from '../origin.js';
import {
  EARLY_END_TOLERANCE_CHUNKS,
  FFMPEG_STDERR_LINES,
  RTMP_ANALYZE_US,
  RTMP_PULL_RETRY_MS,
  TEST_AUDIO_BITRATE_BPS,
  WAIT_FOR_BROADCAST_MS,
  X264_PRESET,
} from './constants.js';
import { TsChunker, type TsChunk } from './mpegts.js';

export type IngestKind = 'file' | 'rtmp';

/** An input written `lavfi:<filtergraph>` is an ffmpeg test source (outputs out0 = video, out1 = audio). */
export const LAVFI_PREFIX = 'lavfi:';

export class FfmpegNotFoundError extends Error {
  constructor() {
    super('ffmpeg is not installed — fix: apt-get install ffmpeg');
  }
}
export class NoBroadcastError extends Error {}
export class BroadcastEndedEarlyError extends Error {}
export class FfmpegFailedError extends Error {}

export interface FfmpegSourceInit {
  kind: IngestKind;
  stream: StreamPlan;
  /** the broadcast's length: the file source stops after it, an RTMP broadcast shorter than it "ended early" */
  durationS: number;
  /** file: a path or lavfi:<graph>; rtmp: the URL to pull (rtmp://127.0.0.1:1935/live/<key>) */
  input: string;
}

export interface FfmpegSourceComponents {
  clock: Clock;
  log: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
  /** each chunk as emitted, with its payload (recording the origin's output) */
  onChunk?: (seq: number, chunk: SourceChunk, ts: TsChunk) => void;
  /** the ffmpeg process started (file: the push start, the anchor of the ingest delay) */
  onSpawn?: (atUs: number) => void;
  /** the first bytes of the broadcast arrived */
  onFirstBytes?: (atUs: number) => void;
}

/** ffmpeg's arguments for a source (exported for tests and docs). */
export function ffmpegArgs(init: FfmpegSourceInit): string[] {
  const common = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
  // Flush every packet: the 32 KB output buffer would otherwise hold ~¼ s of a 1 Mbit/s stream.
  const out = ['-f', 'mpegts', '-flush_packets', '1', 'pipe:1'];
  if (init.kind === 'rtmp') {
    // As it is: the broadcaster's encoder (OBS) chose the keyframes; no re-encoding delay. Not
    // -fflags nobuffer: it drops what was read while probing (the broadcast's first seconds).
    // Probing stops once audio and video are known; the bound only caps a stream without audio.
    return [...common, '-analyzeduration', String(RTMP_ANALYZE_US), '-i', init.input, '-c', 'copy', ...out];
  }
  const s = init.stream;
  const keyframeEveryS = (s.chunkDurationUs / 1e6) * s.keyframeIntervalChunks;
  const videoBps = Math.max(100_000, s.bitrateBps - TEST_AUDIO_BITRATE_BPS);
  const input = init.input.startsWith(LAVFI_PREFIX)
    ? ['-f', 'lavfi', '-i', init.input.slice(LAVFI_PREFIX.length)]
    : ['-i', init.input];
  return [
    ...common,
    '-re',
    ...input,
    // A deployment's broadcast has no end (durationS is infinite): play until stopped.
    ...(Number.isFinite(init.durationS) ? ['-t', String(init.durationS)] : []),
    '-c:v',
    'libx264',
    '-preset',
    X264_PRESET,
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-b:v',
    String(videoBps),
    '-maxrate',
    String(videoBps),
    '-bufsize',
    String(videoBps),
    // Keyframes on the chunk grid, whatever the frame rate, and nowhere else.
    '-force_key_frames',
    `expr:gte(t,n_forced*${keyframeEveryS})`,
    '-sc_threshold',
    '0',
    '-c:a',
    'aac',
    '-b:a',
    String(TEST_AUDIO_BITRATE_BPS),
    '-ar',
    '48000',
    ...out,
  ];
}

export class FfmpegSource implements ChunkSource {
  private child: ChildProcess | undefined;
  private chunker: TsChunker;
  private seq = 0;
  private mediaUs = 0;
  private gotBytes = false;
  private stopped = false;
  private finished = false;
  private startTimer: NodeJS.Timeout | undefined;
  private waitTimer: NodeJS.Timeout | undefined;
  private stderrTail: string[] = [];
  private sink: SourceSink | undefined;

  constructor(
    readonly init: FfmpegSourceInit,
    private readonly c: FfmpegSourceComponents,
  ) {
    this.chunker = new TsChunker({ chunkDurationUs: init.stream.chunkDurationUs });
  }

  /** Chunks emitted so far. */
  get emitted(): number {
    return this.seq;
  }

  /** Media seconds emitted so far. */
  get mediaSeconds(): number {
    return this.mediaUs / 1e6;
  }

  start(atUs: number, sink: SourceSink): void {
    this.sink = sink;
    if (this.init.kind === 'rtmp') {
      // Attach to nginx now, so the broadcast is taken from its first keyframe whenever it starts.
      this.spawn();
      // A deployment waits for its broadcaster as long as it runs; a lab run gives up.
      if (Number.isFinite(this.init.durationS))
        this.waitTimer = setTimeout(() => {
          if (this.gotBytes) return;
          this.finish(
            new NoBroadcastError(
              `no broadcast arrived at ${this.init.input} within ${WAIT_FOR_BROADCAST_MS / 1000} s — push to it (OBS or ffmpeg, see docs/obs.md)`,
            ),
          );
        }, WAIT_FOR_BROADCAST_MS);
    } else {
      // The file plays from the broadcast start, like the synthetic source.
      this.startTimer = setTimeout(() => this.spawn(), Math.max(0, (atUs - this.c.clock.nowUs()) / 1000));
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.startTimer);
    clearTimeout(this.waitTimer);
    this.child?.kill('SIGTERM');
  }

  private spawn(): void {
    if (this.stopped || this.finished) return;
    const args = ffmpegArgs(this.init);
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.c.onSpawn?.(this.c.clock.nowUs());
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') this.finish(new FfmpegNotFoundError());
      else this.finish(new FfmpegFailedError(`ffmpeg could not start: ${e.message}`));
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.stderrTail.push(...d.toString().split('\n').filter(Boolean));
      this.stderrTail = this.stderrTail.slice(-FFMPEG_STDERR_LINES);
    });
    child.stdout!.on('data', (d: Buffer) => {
      const now = this.c.clock.nowUs();
      if (!this.gotBytes) {
        this.gotBytes = true;
        this.c.onFirstBytes?.(now);
        this.c.log.info({ input: this.init.input }, 'broadcast arriving');
      }
      for (const ts of this.chunker.push(d, now)) this.emit(ts, now);
      const fresh = this.chunker.takeNew();
      if (fresh.payload.length > 0 && !this.finished)
        this.sink?.part({ payload: fresh.payload, producedAtUs: now, keyframe: fresh.keyframe });
    });
    child.on('close', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.finished) return;
      const endless = !Number.isFinite(this.init.durationS);
      if (this.init.kind === 'rtmp' && !this.stopped && (!this.gotBytes || endless)) {
        if (this.gotBytes) {
          // A deployment outlives its broadcaster: cut what arrived, then wait for the next
          // publish (a fresh MPEG-TS stream; chunk numbers go on).
          const last = this.chunker.flush(this.c.clock.nowUs());
          if (last && last.payload.length > 0) this.emit(last, this.c.clock.nowUs());
          this.chunker = new TsChunker({ chunkDurationUs: this.init.stream.chunkDurationUs });
          this.gotBytes = false;
          this.c.log.info({ input: this.init.input }, 'the broadcaster left; waiting for the next publish');
        }
        // Nothing pulled yet: nginx not ready or no publisher; try again (until the wait runs out).
        setTimeout(() => this.spawn(), RTMP_PULL_RETRY_MS);
        return;
      }
      const now = this.c.clock.nowUs();
      const last = this.chunker.flush(now);
      if (last && last.payload.length > 0) this.emit(last, now);
      this.finish(this.endReason(code, signal));
    });
  }

  private emit(ts: TsChunk, nowUs: number): void {
    if (this.finished) return;
    const chunk: SourceChunk = {
      payload: ts.payload,
      keyframe: ts.keyframe,
      producedAtUs: nowUs,
      durationUs: ts.durationUs,
    };
    this.mediaUs = ts.mediaOffsetUs + ts.durationUs;
    this.c.onChunk?.(this.seq, chunk, ts);
    this.seq++;
    this.sink?.emit(chunk);
    // An RTMP broadcast may run longer than the scenario: the run covers durationS of it.
    if (this.init.kind === 'rtmp' && this.mediaUs >= this.init.durationS * 1e6) {
      this.c.log.info({ mediaSeconds: this.mediaSeconds }, 'scenario duration reached; stopping the pull');
      this.finish(undefined);
    }
  }

  private endReason(code: number | null, signal: NodeJS.Signals | null): Error | undefined {
    if (this.stopped) return undefined;
    const tail = this.stderrTail.join(' | ');
    if (code !== 0 && !this.gotBytes)
      return new FfmpegFailedError(
        `ffmpeg (${this.init.kind} source) failed before any video: ${signal ?? `exit ${code}`}${tail ? `: ${tail}` : ''}`,
      );
    const shortByUs = this.init.durationS * 1e6 - this.mediaUs;
    if (shortByUs > EARLY_END_TOLERANCE_CHUNKS * this.init.stream.chunkDurationUs) {
      const what =
        this.init.kind === 'rtmp'
          ? 'the broadcaster stopped or was killed'
          : `ffmpeg ${signal ?? `exit ${code}`}${tail ? `: ${tail}` : ''}`;
      return new BroadcastEndedEarlyError(
        `the broadcast ended after ${this.mediaSeconds.toFixed(1)} s of the scenario's ${this.init.durationS} s (${what}); ${this.seq} chunks were produced and what viewers received is kept`,
      );
    }
    return undefined;
  }

  private finish(reason: Error | undefined): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.waitTimer);
    this.child?.kill('SIGTERM');
    if (reason) this.c.log.warn({ err: reason.message }, 'ingest ended');
    this.sink?.end(reason);
  }
}
