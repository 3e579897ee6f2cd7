// The arithmetic of an emulated access link, in virtual time (sans-IO): a sender's uplink is
// shared by all its children, a receiver's downlink by all its parents.
// Callers pass `nowUs`; nothing here reads a clock or arms a timer.

/** Bits per second → microseconds to serialize `bytes`. */
export function serializationUs(bytes: number, bps: number): number {
  return (bytes * 8 * 1_000_000) / bps;
}

/** Bits per second → milliseconds to serialize `bytes` (the bound's and the overlay's unit). */
export function serializationMs(bytes: number, bps: number): number {
  return ((bytes * 8) / bps) * 1000;
}

/**
 * A sender's uplink. `depart` returns when the last bit of a message handed over at `nowUs`
 * leaves the sender, after every message queued before it (store-and-forward of one fragment).
 */
export class UplinkQueue {
  private freeAtUs = 0;

  constructor(readonly bps: number) {}

  depart(nowUs: number, bytes: number): number {
    const startUs = Math.max(nowUs, this.freeAtUs);
    this.freeAtUs = startUs + serializationUs(bytes, this.bps);
    return this.freeAtUs;
  }

  /** Microseconds of backlog ahead of a message handed over at `nowUs`. */
  backlogUs(nowUs: number): number {
    return Math.max(0, this.freeAtUs - nowUs);
  }
}

/** Bookings computed as sums of serializations differ from exact by float rounding (≪ 1 µs). */
const FIT_EPSILON_US = 1e-6;

/**
 * A link's busy intervals [start, end), sorted and non-overlapping, booked in any order: a
 * transmission goes into the first gap that fits at or after its earliest start. Messages may be
 * booked out of time order (a relay books what it forwards as soon as it has the bytes, which can
 * be ahead of a probe booked later for an earlier time); the link is never double-booked.
 */
export class LinkCalendar {
  private busy: Array<[number, number]> = [];

  /** End of the last booking (0 when none). */
  lastEnd(): number {
    return this.busy.length > 0 ? this.busy[this.busy.length - 1]![1] : 0;
  }

  /** Books `durUs` in the first gap at or after `earliestUs`; returns when it ends. */
  book(earliestUs: number, durUs: number): number {
    // Forget intervals that ended more than a second before this booking: nothing is booked
    // that far back (bookings trail the caller's now by at most a late timer).
    let drop = 0;
    while (drop < this.busy.length - 1 && this.busy[drop]![1] < earliestUs - 1_000_000) drop++;
    if (drop > 0) this.busy.splice(0, drop);
    // first interval that ends after `earliestUs` (binary search: intervals are sorted)
    let lo = 0;
    let hi = this.busy.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.busy[mid]![1] <= earliestUs) lo = mid + 1;
      else hi = mid;
    }
    let start = earliestUs;
    let at = lo;
    for (; at < this.busy.length; at++) {
      const [s, e] = this.busy[at]!;
      // A gap that fits to within float rounding fits: back-to-back bookings must not slip.
      if (s >= start + durUs - FIT_EPSILON_US) break;
      start = Math.max(start, e);
    }
    const end = start + durUs;
    // [start, end) goes before index `at`; merge with the neighbours it touches
    const prev = at > 0 ? this.busy[at - 1] : undefined;
    const next = this.busy[at];
    if (prev && prev[1] >= start) {
      prev[1] = end;
      if (next && next[0] <= end) {
        prev[1] = next[1];
        this.busy.splice(at, 1);
      }
    } else if (next && next[0] <= end) {
      next[0] = start;
    } else {
      this.busy.splice(at, 0, [start, end]);
    }
    return end;
  }
}

/**
 * A receiver's downlink. Bits of a message start arriving once its first bit has crossed the
 * path (`sentAtUs` − its uplink serialization + latency) and the downlink is free; the message is
 * complete when the downlink has clocked all its bits in, never before its last bit arrived.
 * Messages from several senders share it in time order, whatever order they are booked in.
 */
export class DownlinkQueue {
  private readonly calendar = new LinkCalendar();

  constructor(readonly bps: number) {}

  arrive(sentAtUs: number, bytes: number, senderUplinkBps: number, latencyUs: number): number {
    const firstBitUs = sentAtUs - serializationUs(bytes, senderUplinkBps) + latencyUs;
    const lastBitUs = sentAtUs + latencyUs;
    return Math.max(this.calendar.book(firstBitUs, serializationUs(bytes, this.bps)), lastBitUs);
  }
}

/**
 * How a parent's uplink serves its children: the release unit goes to each child in turn, in the
 * order the relay hands them over (its priority order: largest remaining subtree first).
 * - 'chunk' (segment production, where a whole chunk is released at once): child i of chunk k
 *   gets a slot starting i chunk-times after the first, so the first child can relay onward while
 *   later siblings wait, instead of every child getting the chunk at 1/k rate.
 * - 'fragment' (frame-paced production): each fragment goes to every child in turn as it arrives,
 *   so child i waits i fragment-times, not i chunk-times.
 * Transmissions are booked on a calendar of busy intervals, so the link is never double-booked
 * even when a chunk arrives slower than the link could send it (gaps are filled).
 */
export class SequentialUplink {
  private readonly calendar = new LinkCalendar();
  private readonly chunks = new Map<number, { startUs: number; chunkUs: number; order: Map<string, number> }>();

  constructor(
    readonly bps: number,
    readonly unit: 'chunk' | 'fragment' = 'chunk',
  ) {}

  /** A message outside any chunk schedule (probe, backlog): earliest free time from `nowUs`. */
  depart(nowUs: number, bytes: number): number {
    return this.calendar.book(nowUs, serializationUs(bytes, this.bps));
  }

  /** Fragment [offset, offset+length) of chunk `seq` to child `childId`, handed over at `nowUs`. */
  departFragment(
    nowUs: number,
    seq: number,
    childId: string,
    offset: number,
    length: number,
    totalBytes: number,
  ): number {
    // Per fragment: the relay books a fragment's copies in its children's order, each in the
    // first gap at or after the fragment's arrival, so child i's copy leaves i copies later.
    if (this.unit === 'fragment') return this.calendar.book(nowUs, serializationUs(length, this.bps));
    let c = this.chunks.get(seq);
    if (!c) {
      c = {
        startUs: Math.max(nowUs, this.calendar.lastEnd()),
        chunkUs: serializationUs(totalBytes, this.bps),
        order: new Map(),
      };
      this.chunks.set(seq, c);
      if (this.chunks.size > 16) this.chunks.delete(Math.min(...this.chunks.keys()));
    }
    let i = c.order.get(childId);
    if (i === undefined) {
      i = c.order.size;
      c.order.set(childId, i);
    }
    const earliest = Math.max(nowUs, c.startUs + i * c.chunkUs + serializationUs(offset, this.bps));
    return this.calendar.book(earliest, serializationUs(length, this.bps));
  }
}
