// The stream's clock: when chunk 0 of the broadcast began, so that chunk k is complete at
// startUs + (k + 1) × chunkDurationUs. The tracker publishes it (Tracker.StreamClock) and writes
// it to <out>/tracker.clock.json, where the lab's Kubernetes backend reads it: one clock for a
// whole deployment, whatever time each pod started.
import { z } from 'zod';

export const STREAM_CLOCK_FILE = 'tracker.clock.json';

export const StreamClockFile = z.object({
  startUs: z.number(),
  chunkDurationUs: z.number().positive(),
  /** where it came from: the lab's start command, or the origin chunk it was learnt from */
  source: z.enum(['lab', 'origin']),
  /** seq of the origin chunk it was learnt from */
  seq: z.number().int().nonnegative().optional(),
  learntAtUs: z.number(),
});
export type StreamClockFile = z.infer<typeof StreamClockFile>;

/**
 * The clock a chunk implies: chunk `seq` produced at `producedAtUs` began one chunk duration
 * earlier, `seq` durations after chunk 0.
 */
export function clockFromChunk(seq: number, producedAtUs: number, chunkDurationUs: number): number {
  return producedAtUs - (seq + 1) * chunkDurationUs;
}
