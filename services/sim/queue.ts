// The simulator's one event queue: callbacks ordered by virtual time, and among equal times by
// the order they were scheduled (so a run is deterministic). Built on core's binary heap.
import { MinHeap } from '../core/heap.js';

interface Entry {
  atUs: number;
  order: number;
  run: () => void;
}

export class EventQueue {
  private readonly heap = new MinHeap<Entry>((a, b) => a.atUs < b.atUs || (a.atUs === b.atUs && a.order < b.order));
  private order = 0;
  private now = 0;
  /** events run so far */
  processed = 0;

  get nowUs(): number {
    return this.now;
  }

  get size(): number {
    return this.heap.size;
  }

  /** Runs `run` at `atUs` (never before now: a past time means now). */
  at(atUs: number, run: () => void): void {
    this.heap.push({ atUs: Math.max(atUs, this.now), order: this.order++, run });
  }

  /** Runs every event due up to `untilUs` in order; returns false when the queue ran dry. */
  runUntil(untilUs: number): boolean {
    for (;;) {
      const next = this.heap.peek();
      if (!next) return false;
      if (next.atUs > untilUs) {
        this.now = untilUs;
        return true;
      }
      this.heap.pop();
      this.now = next.atUs;
      this.processed++;
      next.run();
    }
  }
}
