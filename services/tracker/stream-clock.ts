// The stream's clock as the tracker publishes it (Tracker.StreamClock, and <out>/tracker.clock.json
// for the lab). Driven by a lab, the lab's start command sets it. Standalone (a deployment), the
// tracker learns it from the origin: it subscribes from the live edge, takes the first chunk whose
// last fragment arrives, answers startUs = producedAt − (seq + 1) × chunk duration, and looks again
// every STREAM_CLOCK_RESAMPLE_MS so that it follows an origin that restarted.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { fragmentLength } from '../core/chunks.js';
import type { Chunk } from '../gen/livepath/v1/chunk.js';
import type { StreamClockResponse } from '../gen/livepath/v1/tracker.js';
import type { ClientPool } from '../relay/client.js';
import { clockFromChunk, STREAM_CLOCK_FILE, type StreamClockFile } from '../results/stream-clock.js';
import { STREAM_CLOCK_RESAMPLE_MS, STREAM_CLOCK_RETRY_MS } from '../runtime/constants.js';

export interface StreamClockComponents {
  nowUs: () => number;
  log: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
  /** where to write tracker.clock.json (undefined: nowhere) */
  outDir: string | undefined;
}

export class StreamClock {
  private clock: StreamClockFile | undefined;
  private call: grpc.ClientReadableStream<Chunk> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly chunkDurationUs: number,
    private readonly c: StreamClockComponents,
  ) {}

  get known(): boolean {
    return this.clock !== undefined;
  }

  answer(): StreamClockResponse {
    return this.clock
      ? { known: true, startUs: this.clock.startUs, chunkDurationUs: this.clock.chunkDurationUs }
      : { known: false, startUs: 0, chunkDurationUs: this.chunkDurationUs };
  }

  /** The lab said when chunk 0 begins. */
  set(startUs: number): void {
    this.record({ startUs, chunkDurationUs: this.chunkDurationUs, source: 'lab', learntAtUs: this.c.nowUs() });
  }

  /** Learns the clock from the origin at `address`, and again every STREAM_CLOCK_RESAMPLE_MS. */
  learnFrom(originId: string, address: string, pool: ClientPool): void {
    if (this.stopped) return;
    const again = (ms: number) => {
      clearTimeout(this.timer);
      if (!this.stopped) this.timer = setTimeout(() => this.learnFrom(originId, address, pool), ms);
    };
    const call = pool.get(address).subscribe({
      streamId: '',
      subscriberId: 'tracker',
      publisherId: originId,
      fromSeq: 0,
      fromLive: true,
      toSeq: 0,
      priority: 0,
    });
    this.call = call;
    call.on('data', (f: Chunk) => {
      if (f.offset + fragmentLength(f) < f.totalBytes) return; // not the chunk's last fragment yet
      const startUs = clockFromChunk(f.seq, f.producedAtUs, f.durationUs || this.chunkDurationUs);
      const before = this.clock;
      if (!before || Math.abs(before.startUs - startUs) > (f.durationUs || this.chunkDurationUs) / 2) {
        this.record({
          startUs,
          chunkDurationUs: f.durationUs || this.chunkDurationUs,
          source: 'origin',
          seq: f.seq,
          learntAtUs: this.c.nowUs(),
        });
        if (before) this.c.log.warn({ seq: f.seq }, "the origin's stream clock moved (did the origin restart?)");
      }
      this.call = undefined;
      call.cancel();
      again(STREAM_CLOCK_RESAMPLE_MS);
    });
    // The origin is not up, or not streaming yet (pods start in any order): look again soon.
    const retry = () => {
      if (this.call !== call) return;
      this.call = undefined;
      again(this.known ? STREAM_CLOCK_RESAMPLE_MS : STREAM_CLOCK_RETRY_MS);
    };
    call.on('error', retry);
    call.on('end', retry);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.call?.cancel();
  }

  private record(clock: StreamClockFile): void {
    this.clock = clock;
    this.c.log.info({ startUs: clock.startUs, source: clock.source, seq: clock.seq }, 'stream clock');
    if (this.c.outDir) writeFileSync(join(this.c.outDir, STREAM_CLOCK_FILE), `${JSON.stringify(clock)}\n`);
  }
}
