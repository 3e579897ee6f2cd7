// One timer per process for every held message: a min-heap of release times. Emulated links of
// hundreds of virtual nodes share it, so a process arms one setTimeout, not one per message.
import type { Clock } from '../core/clock.js';
import { EARLY_RELEASE_US, TIMER_LEAD_US } from './constants.js';

interface Entry {
  atUs: number;
  order: number;
  release: (actualUs: number) => void;
}

export class DeliveryScheduler {
  private readonly heap: Entry[] = [];
  private order = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private armedForUs = Infinity;
  private stopped = false;

  constructor(private readonly clock: Clock) {}

  get pending(): number {
    return this.heap.length;
  }

  /** Calls `release(actualUs)` at `atUs` (or right away when that time has passed). */
  schedule(atUs: number, release: (actualUs: number) => void): void {
    if (this.stopped) return;
    push(this.heap, { atUs, order: this.order++, release });
    if (atUs < this.armedForUs) this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.heap.length = 0;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.immediate) return; // a release pass is already queued and will re-arm
    const next = this.heap[0];
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
    while (this.heap.length > 0 && this.heap[0]!.atUs <= nowUs + EARLY_RELEASE_US) {
      while (this.heap.length > 0 && this.heap[0]!.atUs <= nowUs + EARLY_RELEASE_US) due.push(pop(this.heap)!);
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

function push(h: Entry[], e: Entry): void {
  h.push(e);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!less(h[i]!, h[p]!)) break;
    [h[i], h[p]] = [h[p]!, h[i]!];
    i = p;
  }
}

function pop(h: Entry[]): Entry | undefined {
  const top = h[0];
  const last = h.pop();
  if (h.length > 0 && last) {
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && less(h[l]!, h[m]!)) m = l;
      if (r < h.length && less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
  return top;
}
