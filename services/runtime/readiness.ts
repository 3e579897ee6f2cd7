// Readiness as Kubernetes probes see it: "streaming", not "port bound". Each role says what
// streaming means for it (the origin has produced lately, an edge receives from its parent, a
// peers host has its viewers joined, the tracker knows the stream's clock); this checks it every
// second, sets the overall grpc.health.v1 status the readiness probe reads, and logs each change.
import type { RunPlan } from '../core/types.js';
import { READINESS_CHECK_MS, STREAM_STALL_MS } from './constants.js';

export interface ReadinessOptions {
  /** the gRPC server whose overall health status is the readiness */
  server: { setReady(ready: boolean): void };
  log: { info(o: object, msg: string): void };
  /** undefined when streaming, else why not (for the log) */
  check: () => string | undefined;
  intervalMs?: number;
}

/** Starts checking; returns the function that stops it. */
export function watchReadiness(o: ReadinessOptions): () => void {
  let last: string | undefined | null = null;
  const tick = () => {
    const why = o.check();
    if (why === last) return;
    last = why;
    o.server.setReady(why === undefined);
    o.log.info(why === undefined ? {} : { reason: why }, why === undefined ? 'streaming: ready' : 'not ready');
  };
  tick();
  const timer = setInterval(tick, o.intervalMs ?? READINESS_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * True while `read()` (a count of chunks produced, the newest seq received, …) has moved within
 * the last `windowMs`: a stream that stalls stops being ready, and is again when it moves.
 */
export function movedWithin(windowMs: number, read: () => number, nowMs: () => number = Date.now): () => boolean {
  let value = read();
  let movedAt = Number.NEGATIVE_INFINITY;
  return () => {
    const v = read();
    if (v !== value) {
      value = v;
      movedAt = nowMs();
    }
    return nowMs() - movedAt <= windowMs;
  };
}

/** How long a stream of this plan may stand still and still be streaming (see STREAM_STALL_MS). */
export function stallMs(plan: Pick<RunPlan, 'stream'>): number {
  return STREAM_STALL_MS + (2 * plan.stream.chunkDurationUs * plan.stream.keyframeIntervalChunks) / 1000;
}
