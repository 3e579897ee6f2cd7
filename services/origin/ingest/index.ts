// Chooses and wires the origin's broadcaster: synthetic (none here), a file / lavfi source or an
// RTMP push through ffmpeg. Owns the ingest measurement: per chunk, when its first frame entered
// the origin versus when the broadcaster captured it (origin.ingest.csv), and how the ingest ended
// (origin.ingest.json), plus the origin's own recording of what it produced (--record).
//
// Ingest delay of chunk k = firstByteAt(k) − (anchor + mediaOffset(k)): a real-time broadcaster
// captures the frame at media time t at anchor + t, so what is left is encoding, muxing, RTMP and
// pipe time. The anchor is the instant the broadcast started: for a file, when ffmpeg was started
// (so it includes ffmpeg's start-up, a constant); for RTMP, when nginx asked livepath to accept the
// publish (on_publish), which an RTMP client sends just before its first frame. Without either
// (a foreign nginx), the first chunk is taken as on time and the rest is relative to it.
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { RunPlan, StreamSource } from '../../core/types.js';
import type { Clock } from '../../core/clock.js';
import { ingestAppender, ingestRow, writeIngestEnd } from '../../results/raw.js';
import { TsRecorder } from '../../results/recording.js';
import type { IngestEnd } from '../../results/summary.js';
import type { ChunkSource, SourceChunk } from '../origin.js';
import { DEFAULT_STREAM_KEY } from './constants.js';
import { FfmpegSource, LAVFI_PREFIX, type IngestKind } from './ffmpeg.js';
import { IngestServer } from './nginx.js';

export type AnchorMethod = Exclude<IngestEnd['anchor'], 'none'>;

export interface IngestOptions {
  /** overrides the scenario's stream.source.kind */
  kind?: 'synthetic' | IngestKind;
  input?: string;
  rtmpUrl?: string;
  streamKey?: string;
  /** the gate of a `livepath ingest` started elsewhere (its on_publish times) */
  ingestGate?: string;
  /** write what the origin produced to DIR/origin.ts */
  record?: string;
}

export interface IngestComponents {
  clock: Clock;
  log: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
  outDir: string | undefined;
}

export interface Ingest {
  source: ChunkSource;
  kind: IngestKind;
  /** where a broadcaster pushes (rtmp) */
  publishUrl?: string;
  stop(): Promise<void>;
}

export class IngestConfigError extends Error {}

/** The effective source: CLI options over the scenario's stream.source. */
export function effectiveSource(plan: RunPlan, o: IngestOptions): StreamSource {
  const s = plan.stream.source ?? { kind: 'synthetic' as const };
  const kind = o.kind ?? s.kind;
  const input = o.input ?? (kind === 'rtmp' ? (o.rtmpUrl ?? s.input) : s.input);
  const streamKey = o.streamKey ?? s.streamKey;
  return { kind, ...(input !== undefined && { input }), ...(streamKey !== undefined && { streamKey }) };
}

/** Builds the ingest of the origin, or undefined for the synthetic broadcaster. */
export async function createIngest(
  plan: RunPlan,
  scenarioPath: string,
  o: IngestOptions,
  c: IngestComponents,
): Promise<Ingest | undefined> {
  const src = effectiveSource(plan, o);
  if (src.kind === 'synthetic') return undefined;
  const kind = src.kind;
  let server: IngestServer | undefined;
  let input = src.input;
  if (kind === 'file') {
    if (!input)
      throw new IngestConfigError(
        'the file source needs an input — fix: --input PATH or lavfi:<graph>, or stream.source.input in the scenario',
      );
    if (!input.startsWith(LAVFI_PREFIX) && !isAbsolute(input)) input = resolve(dirname(scenarioPath), input);
  } else if (!input) {
    // No nginx given: run our own on a free port.
    server = new IngestServer(
      { streamKey: src.streamKey },
      { nowUs: () => c.clock.nowUs(), log: (m) => c.log.info({}, m) },
    );
    await server.start();
    input = server.publishUrl(src.streamKey ?? DEFAULT_STREAM_KEY);
    c.log.info({ publishUrl: input }, `broadcaster: push to ${input}`);
  }
  const streamName = input.split('/').pop() ?? '';

  const csv = c.outDir ? ingestAppender(c.outDir) : undefined;
  if (o.record) mkdirSync(o.record, { recursive: true });
  const recorder = o.record ? new TsRecorder(o.record, 'origin') : undefined;
  let anchor: { us: number; method: AnchorMethod } | undefined;
  let anchorPending: Promise<void> | undefined;
  const held: Array<{ seq: number; chunk: SourceChunk; firstByteAtUs: number; mediaOffsetUs: number }> = [];
  const writeRow = (r: (typeof held)[number]) => {
    const a = anchor ?? { us: r.firstByteAtUs - r.mediaOffsetUs, method: 'first-chunk' as const };
    anchor ??= a;
    const delayMs = (r.firstByteAtUs - (a.us + r.mediaOffsetUs)) / 1000;
    csv?.row(
      ingestRow({
        seq: r.seq,
        firstByteAtUs: r.firstByteAtUs,
        producedAtUs: r.chunk.producedAtUs,
        mediaOffsetUs: r.mediaOffsetUs,
        durationUs: r.chunk.durationUs,
        bytes: r.chunk.payload.length,
        keyframe: r.chunk.keyframe,
        anchorUs: a.us,
        ingestDelayMs: delayMs,
      }),
    );
  };
  const flushHeld = () => held.splice(0).forEach(writeRow);

  let end: IngestEnd = { kind, input, anchor: 'none', chunks: 0, mediaSeconds: 0 };
  const source = new FfmpegSource(
    { kind, stream: plan.stream, durationS: plan.durationS, input },
    {
      clock: c.clock,
      log: c.log,
      onSpawn: (atUs) => {
        if (kind === 'file') anchor = { us: atUs, method: 'ffmpeg-start' };
      },
      onFirstBytes: () => {
        if (kind !== 'rtmp') return;
        anchorPending = publishTime(server, o.ingestGate, streamName).then((us) => {
          if (us !== undefined) anchor = { us, method: 'rtmp-publish' };
          else c.log.warn({}, 'no on_publish time for the broadcast: ingest delay is relative to the first chunk');
          flushHeld();
        });
      },
      onChunk: (seq, chunk, ts) => {
        recorder?.chunk({ seq, keyframe: chunk.keyframe, payload: chunk.payload });
        held.push({ seq, chunk, firstByteAtUs: ts.firstByteAtUs, mediaOffsetUs: ts.mediaOffsetUs });
        if (kind === 'file' || anchor?.method === 'rtmp-publish') flushHeld();
      },
    },
  );
  // Remember how the broadcast ended, for the summary.
  const wrapped: ChunkSource = {
    start: (atUs, sink) =>
      source.start(atUs, {
        part: (p) => sink.part(p),
        emit: (chunk) => sink.emit(chunk),
        end: (reason) => {
          if (reason) end.endedEarly = reason.message;
          sink.end(reason);
        },
      }),
    stop: () => source.stop(),
  };
  return {
    source: wrapped,
    kind,
    publishUrl: kind === 'rtmp' ? input : undefined,
    async stop() {
      source.stop();
      await anchorPending;
      flushHeld();
      end = {
        ...end,
        anchor: anchor?.method ?? 'none',
        chunks: source.emitted,
        mediaSeconds: Math.round(source.mediaSeconds * 1000) / 1000,
      };
      if (c.outDir) writeIngestEnd(c.outDir, end);
      await csv?.close();
      await recorder?.close();
      await server?.stop();
    },
  };
}

/** When the publish of `name` began, from our own nginx gate or a remote one. */
async function publishTime(
  server: IngestServer | undefined,
  gateUrl: string | undefined,
  name: string,
): Promise<number | undefined> {
  if (server) return server.publishes.get(name)?.publishedAtUs;
  if (!gateUrl) return undefined;
  try {
    const r = await fetch(`${gateUrl}/publish?name=${encodeURIComponent(name)}`, {
      signal: AbortSignal.timeout(2_000),
    });
    if (!r.ok) return undefined;
    const j = (await r.json()) as { publishedAtUs?: number };
    return j.publishedAtUs;
  } catch {
    return undefined;
  }
}
