// The arithmetic of an emulated access link, in virtual time (sans-IO): a sender's uplink is a
// FIFO shared by all its children, a receiver's downlink a FIFO shared by all its parents.
// Callers pass `nowUs`; nothing here reads a clock or arms a timer.

/** Bits per second → microseconds to serialize `bytes`. */
export function serializationUs(bytes: number, bps: number): number {
  return (bytes * 8 * 1_000_000) / bps;
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

/**
 * A receiver's downlink. Bits of a message start arriving once its first bit has crossed the
 * path (`sentAtUs` − its uplink serialization + latency) and the downlink is free; the message is
 * complete when the downlink has clocked all its bits in, never before its last bit arrived.
 */
export class DownlinkQueue {
  private freeAtUs = 0;

  constructor(readonly bps: number) {}

  arrive(sentAtUs: number, bytes: number, senderUplinkBps: number, latencyUs: number): number {
    const firstBitUs = sentAtUs - serializationUs(bytes, senderUplinkBps) + latencyUs;
    const lastBitUs = sentAtUs + latencyUs;
    const startUs = Math.max(firstBitUs, this.freeAtUs);
    const doneUs = Math.max(startUs + serializationUs(bytes, this.bps), lastBitUs);
    this.freeAtUs = doneUs;
    return doneUs;
  }
}

/**
 * An uplink that serves a chunk to its children one after another ("largest subtree first"):
 * child i of chunk k gets a slot starting i chunk-times after the first, so the first child can
 * relay onward while later siblings wait, instead of every child getting the chunk at 1/k rate.
 * Transmissions are booked on a calendar of busy intervals, so the link is never double-booked
 * even when a chunk arrives slower than the link could send it (gaps are filled).
 */
export class SequentialUplink {
  /** busy intervals [start, end), sorted, non-overlapping */
  private busy: Array<[number, number]> = [];
  private readonly chunks = new Map<number, { startUs: number; chunkUs: number; order: Map<string, number> }>();

  constructor(readonly bps: number) {}

  /** A message outside any chunk schedule (probe, backlog): earliest free time from `nowUs`. */
  depart(nowUs: number, bytes: number): number {
    return this.book(nowUs, serializationUs(bytes, this.bps));
  }

  /** Fragment [offset, offset+length) of chunk `seq` to child `childId`, handed over at `nowUs`. */
  departFragment(nowUs: number, seq: number, childId: string, offset: number, length: number, totalBytes: number): number {
    let c = this.chunks.get(seq);
    if (!c) {
      c = { startUs: Math.max(nowUs, this.lastEnd()), chunkUs: serializationUs(totalBytes, this.bps), order: new Map() };
      this.chunks.set(seq, c);
      if (this.chunks.size > 16) this.chunks.delete(Math.min(...this.chunks.keys()));
    }
    let i = c.order.get(childId);
    if (i === undefined) {
      i = c.order.size;
      c.order.set(childId, i);
    }
    const earliest = Math.max(nowUs, c.startUs + i * c.chunkUs + serializationUs(offset, this.bps));
    return this.book(earliest, serializationUs(length, this.bps));
  }

  private lastEnd(): number {
    return this.busy.length > 0 ? this.busy[this.busy.length - 1]![1] : 0;
  }

  /** Books `durUs` in the first gap at or after `earliestUs`; returns when it ends. */
  private book(earliestUs: number, durUs: number): number {
    // Forget the past: nothing can be booked before `earliestUs`'s caller's now.
    while (this.busy.length > 1 && this.busy[0]![1] < earliestUs - 1_000_000) this.busy.shift();
    let start = earliestUs;
    let at = 0;
    for (; at < this.busy.length; at++) {
      const [s, e] = this.busy[at]!;
      if (e <= start) continue;
      if (s >= start + durUs) break;
      start = Math.max(start, e);
    }
    const end = start + durUs;
    // insert [start, end) keeping order, merging touching neighbours
    let idx = this.busy.findIndex(([s]) => s > start);
    if (idx < 0) idx = this.busy.length;
    this.busy.splice(idx, 0, [start, end]);
    const prev = this.busy[idx - 1];
    if (prev && prev[1] >= start) {
      prev[1] = Math.max(prev[1], end);
      this.busy.splice(idx, 1);
      idx--;
    }
    const next = this.busy[idx + 1];
    const cur = this.busy[idx]!;
    if (next && next[0] <= cur[1]) {
      cur[1] = Math.max(cur[1], next[1]);
      this.busy.splice(idx + 1, 1);
    }
    return end;
  }
}
