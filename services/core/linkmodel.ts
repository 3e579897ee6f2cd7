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
