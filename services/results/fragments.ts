// Per-fragment (frame) delays of the viewers one process hosts: from when the broadcaster made a
// fragment's bytes to when they reached the viewer, by path. Too many to write a row each
// (a frame-paced 120-viewer run delivers ~10^5 a minute), so they are kept as histograms and
// written once at the end (<proc>.fragments.json, raw.ts), which the lab merges into the summary.
import { Recorder } from '../core/stats.js';
import type { ViewerPlan } from '../core/types.js';
import { fragmentLength } from '../core/chunks.js';
import { chunkBoundMs } from '../core/scenario/plan.js';
import { writeFragmentsFile } from './raw.js';

export interface FragmentDelays {
  cdn: Recorder;
  peer: Recorder;
  all: Recorder;
}

export class FragmentStats {
  readonly delayMs: FragmentDelays = { cdn: new Recorder(0.001), peer: new Recorder(0.001), all: new Recorder(0.001) };
  belowBound = 0;

  /** A fragment of `viewer` made at `producedAtUs` arrived at `arrivalUs`. */
  record(
    viewer: Pick<ViewerPlan, 'boundPropagationMs' | 'bottleneckBps'>,
    f: { producedAtUs: number; viaPeer: boolean; payload: Uint8Array; virtualLength: number },
    arrivalUs: number,
  ): void {
    const d = (arrivalUs - f.producedAtUs) / 1000;
    this.delayMs[f.viaPeer ? 'peer' : 'cdn'].record(d);
    this.delayMs.all.record(d);
    // A fragment's own bytes, made at once, must cross the bottleneck after they were made.
    const boundMs = chunkBoundMs(viewer, fragmentLength(f));
    if (d < boundMs - BOUND_SLACK_MS) this.belowBound++;
  }

  /** Writes <proc>.fragments.json into the process' raw directory. */
  write(dir: string, proc: string): void {
    writeFragmentsFile(dir, {
      proc,
      delayMs: { cdn: this.delayMs.cdn.encode(), peer: this.delayMs.peer.encode(), all: this.delayMs.all.encode() },
      belowBound: this.belowBound,
    });
  }
}

/** Times travel as whole µs (sentAtUs is rounded up, producedAtUs read from the clock): 1 µs of rounding. */
export const BOUND_SLACK_MS = 0.001;
