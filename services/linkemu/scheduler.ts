// One timer per process for every held message: a min-heap of release times. Emulated links of
// hundreds of virtual nodes share it, so a process arms one setTimeout, not one per message.
import type { Clock } from '../core/clock.js';
import { MinHeap } from '../core/heap.js';
import { EARLY_RELEASE_US, TIMER_LEAD_US } from './constants.js';

interface Entry {
  atUs: number;
  order: number;
  release: (actualUs: number) => void;
}

export class DeliveryScheduler {
  private readonly heap = new MinHeap<Entry>(less);
  private order = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private armedForUs = Infinity;
  private stopped = false;

  constructor(private readonly clock: Clock) {}

  get pending(): number {
    return this.heap.size;
  }

  /** Calls `release(actualUs)` at `atUs` (or right away when that time has passed). */
  schedule(atUs: number, release: (actualUs: number) => void): void {
    if (this.stopped) return;
    this.heap.push({ atUs, order: this.order++, release });
    if (atUs < this.armedForUs) this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.heap.clear();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.immediate) return; // a release pass is already queued and will re-arm
    const next = this.heap.peek();
    if (!next) {
      this.armedForUs = Infinity;
      return;
    }
    this.armedForUs = next.atUs;
    const waitUs = next.atUs - this.clock.nowUs();
    if (waitUs <= EARLY_RELEASE_US) {
      this.immediate = setImmediate(() => this.fire());
    } else {
      // Never spin: a timer of at least 1 ms, aimed a little early (see TIMER_LEAD_US).
      this.timer = setTimeout(() => this.fire(), Math.max(1, Math.floor((waitUs - TIMER_LEAD_US) / 1000)));
    }
  }

  private fire(): void {
    this.timer = undefined;
    this.immediate = undefined;
    // Everything due is delivered at the instant the timer fired; the work each delivery then does
    // (forwarding to 40 children, recording) is the receiver's, not the link's, and must not make
    // the next message in the same burst look late. What became due meanwhile goes in a next pass.
    let nowUs = this.clock.nowUs();
    const due: Entry[] = [];
    while ((this.heap.peek()?.atUs ?? Infinity) <= nowUs + EARLY_RELEASE_US) {
      while ((this.heap.peek()?.atUs ?? Infinity) <= nowUs + EARLY_RELEASE_US) due.push(this.heap.pop()!);
      for (const e of due) {
        e.release(nowUs);
        if (this.stopped) return;
      }
      due.length = 0;
      nowUs = this.clock.nowUs();
    }
    this.arm();
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.atUs < b.atUs || (a.atUs === b.atUs && a.order < b.order);
}
