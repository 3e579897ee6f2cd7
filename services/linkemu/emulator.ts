// User-space link emulation for backends whose kernel cannot delay packets (no netem) or where
// the user has no root. A message is stamped with its departure from the sender's uplink; the
// receiver computes its arrival (departure + path latency + downlink serialization) the moment
// the bytes reach its process, and acts on it when that time comes.
//
// Error, per hop: how much later than the model the bytes reached the receiver's process. When they
// are there in time, the arrival is exactly the model's, as a kernel receive timestamp under netem
// would be; relays forward at once, stamped to leave on the model's schedule, so the next hop gets
// the bytes ahead of time too. How late this process's timer then runs the receiver's callback is
// measured separately (`latenessMs`): it delays what the process does, not the arrival it records.
//
// Model: each host has one access link (uplink, downlink); core links are never bottlenecks here
// (their latency is in the path latency, their bandwidth is ignored). Mininet emulates every link.
//
// delay-only (Mininet without netem: htb shapes real bytes, latency is added here): a message is
// held until its real arrival at the receiving process (after the kernel serialized and queued it)
// + the pair's latency, and is forwarded only then, so the kernel's time stays in every hop's delay.
// The error of such a hop is how late this process released the message against that target.
import type { LinkShaping, RunPlan } from '../core/types.js';
import { DownlinkQueue, SequentialUplink, serializationUs } from '../core/linkmodel.js';
import { UnknownHostError } from '../core/scenario/plan.js';
import { Recorder } from '../core/stats.js';
import type { Clock } from '../core/clock.js';
import { DeliveryScheduler } from './scheduler.js';
import { HANDOVER_LEAD_US } from './constants.js';
import { FRAGMENT_OVERHEAD_BYTES } from '../core/constants.js';

/** What a message is, for which error its lateness counts in: a chunk fragment or a probe. */
export type MessageKind = 'chunk' | 'probe';

export interface LinkEmulatorInit {
  plan: RunPlan;
  mechanism?: LinkShaping;
}

export interface LinkEmulatorComponents {
  clock: Clock;
  /** Called with each hop's emulation error in seconds, e.g. for a metric. */
  onError?: (errorS: number) => void;
}

export class LinkEmulator {
  readonly scheduler: DeliveryScheduler;
  /** Per chunk-fragment hop, ms: how much later than the model the bytes reached the receiver's process. */
  readonly errorMs = new Recorder(0.001);
  /** The same for probes (a late probe inflates a measured RTT, not a chunk's delay). */
  readonly probeErrorMs = new Recorder(0.001);
  /** Per hop, ms: |when the receiver's callback ran − the arrival it was given| (timer lateness). */
  readonly latenessMs = new Recorder(0.001);
  /**
   * Per live copy a peer relays, by the child's position in its parent's order (0 = served first),
   * ms: how long the copy waited on the parent's uplink beyond its own serialization (the
   * position cost of fan-out: siblings ahead of it, and what the uplink still had to send).
   */
  readonly positionWaitMs = new Map<number, Recorder>();
  private readonly uplinks = new Map<string, SequentialUplink>();
  private readonly downlinks = new Map<string, DownlinkQueue>();
  private readonly latencyUsCache = new Map<string, Map<string, number>>();

  constructor(
    private readonly init: LinkEmulatorInit,
    private readonly components: LinkEmulatorComponents,
  ) {
    this.scheduler = new DeliveryScheduler(components.clock);
  }

  nowUs(): number {
    return this.components.clock.nowUs();
  }

  get mechanism(): LinkShaping {
    return this.init.mechanism ?? 'linkemu';
  }

  /**
   * When a message of `bytes` handed to `senderId`'s uplink at `atUs` (default: now) will have
   * left it (µs). Relays forward on receipt and pass the model's arrival of what they forward,
   * which may still be ahead: the next hop's schedule follows the model, not this process's timers.
   */
  depart(senderId: string, bytes: number, atUs?: number): number {
    const nowUs = this.components.clock.nowUs();
    if (this.mechanism !== 'linkemu') return Math.round(atUs ?? nowUs);
    // Whole microseconds: the stamp travels as an int64.
    return Math.ceil(this.uplink(senderId).depart(atUs ?? nowUs, bytes));
  }

  /**
   * Like `depart`, for fragment [offset, offset+length) of chunk `seq` forwarded live to `childId`:
   * the uplink serves the chunk to children one after another in the order they are first given it.
   */
  departFragment(
    senderId: string,
    childId: string,
    f: { seq: number; offset: number; length: number; totalBytes: number; position?: number },
    atUs?: number,
  ): number {
    const nowUs = this.components.clock.nowUs();
    if (this.mechanism !== 'linkemu') return Math.round(atUs ?? nowUs);
    const uplink = this.uplink(senderId);
    const readyUs = atUs ?? nowUs;
    // The chunk's slot per child is what its fragments take on the wire, framing included.
    const { fragmentBytes } = this.init.plan.stream;
    const wire = (payloadBytes: number) =>
      payloadBytes + Math.ceil(payloadBytes / fragmentBytes) * FRAGMENT_OVERHEAD_BYTES;
    const departUs = uplink.departFragment(readyUs, f.seq, childId, wire(f.offset), f.length, wire(f.totalBytes));
    if (f.position !== undefined && this.host(senderId).role === 'peer') {
      let r = this.positionWaitMs.get(f.position);
      if (!r) {
        r = new Recorder(0.001);
        this.positionWaitMs.set(f.position, r);
      }
      r.record((departUs - readyUs - serializationUs(f.length, uplink.bps)) / 1000);
    }
    return Math.ceil(departUs);
  }

  /**
   * Whether a message may reach the transport only once the model has it here (delay-only): the
   * kernel's serialization and queueing must come after the latency of the hop before, not beside it.
   */
  get sendsOnArrival(): boolean {
    return this.mechanism === 'delay-only';
  }

  /**
   * When to hand a message that leaves `senderId` at `departUs` to the transport (µs): a lead time
   * before it is due at `receiverId` (see HANDOVER_LEAD_US). Under kernel shaping, at once.
   */
  handOverUs(senderId: string, receiverId: string, departUs: number): number {
    if (this.mechanism !== 'linkemu') return this.components.clock.nowUs();
    return departUs + this.latencyUs(senderId, receiverId) - HANDOVER_LEAD_US;
  }

  /**
   * The bytes of a message that `senderId` stamped `sentAtUs` reached `receiverId`'s process at
   * `opts.receivedUs` (default: now). `intendedUs` is when the model delivers it there; `arrivalUs` is
   * when this run does: the same, or `receivedUs` when the transport was slower than the model (the
   * hop's emulation error). Relays forward on the model's schedule (`intendedUs`), so an error is
   * not passed down a path. `opts.kind` says which error it counts in (default: chunk).
   */
  arrive(
    receiverId: string,
    senderId: string,
    sentAtUs: number,
    bytes: number,
    opts: { receivedUs?: number; kind?: MessageKind } = {},
  ): { intendedUs: number; arrivalUs: number } {
    const nowUs = opts.receivedUs ?? this.components.clock.nowUs();
    if (this.mechanism === 'kernel') return { intendedUs: nowUs, arrivalUs: nowUs };
    const latencyUs = this.latencyUs(senderId, receiverId);
    // delay-only: the bytes are here after the kernel's serialization and queueing; the hop's
    // latency comes on top. Its error is measured when `at` releases it (how late against this).
    if (this.mechanism === 'delay-only') return { intendedUs: nowUs + latencyUs, arrivalUs: nowUs + latencyUs };
    const intendedUs = this.downlink(receiverId).arrive(sentAtUs, bytes, this.senderUplinkBps(senderId), latencyUs);
    const arrivalUs = Math.max(intendedUs, nowUs);
    this.recordError(opts.kind ?? 'chunk', arrivalUs - intendedUs);
    return { intendedUs, arrivalUs };
  }

  /**
   * Calls `act()` when the clock reaches `arrivalUs` (from `arrive`); under kernel shaping, now.
   * With `kind` (the release of a received message) under delay-only, how late that was is the
   * hop's emulation error: the message is forwarded and recorded only then.
   */
  at(arrivalUs: number, act: () => void, kind?: MessageKind): void {
    if (this.mechanism === 'kernel') {
      act();
      return;
    }
    this.scheduler.schedule(arrivalUs, (actualUs) => {
      this.latenessMs.record(Math.abs(actualUs - arrivalUs) / 1000);
      if (kind !== undefined && this.mechanism === 'delay-only') this.recordError(kind, actualUs - arrivalUs);
      act();
    });
  }

  private recordError(kind: MessageKind, lateUs: number): void {
    const errorUs = Math.max(0, lateUs);
    if (kind === 'probe') {
      this.probeErrorMs.record(errorUs / 1000);
    } else {
      this.errorMs.record(errorUs / 1000);
      this.components.onError?.(errorUs / 1e6);
    }
  }

  /** `arrive` then `at`: `deliver(arrivalUs)` runs when the message is due at `receiverId`. */
  receive(
    receiverId: string,
    senderId: string,
    sentAtUs: number,
    bytes: number,
    deliver: (arrivalUs: number) => void,
    kind: MessageKind = 'chunk',
  ): void {
    const { arrivalUs } = this.arrive(receiverId, senderId, sentAtUs, bytes, { kind });
    this.at(arrivalUs, () => deliver(arrivalUs), kind);
  }

  /** One-way latency between two hosts (µs), as the scenario defines it. */
  latencyUs(a: string, b: string): number {
    // Two map lookups, no string building: this runs for every fragment on every hop.
    let row = this.latencyUsCache.get(a);
    if (!row) {
      row = new Map();
      this.latencyUsCache.set(a, row);
    }
    let v = row.get(b);
    if (v === undefined) {
      // A subscriber outside the scenario (`livepath probe`, the tracker reading the stream's
      // clock) is not on an emulated link: it must not bring down the relay that serves it.
      const { hosts } = this.init.plan;
      v = hosts.has(a) && hosts.has(b) ? this.init.plan.latencyMs(a, b) * 1000 : 0;
      row.set(b, v);
    }
    return v;
  }

  stop(): void {
    this.scheduler.stop();
  }

  /**
   * A sender's uplink. The sender id travels unsigned in every fragment and probe: one outside the
   * scenario (a prober, a peer that lies) is not on an emulated link and must not crash the
   * receiver (it did, on a fragment whose signature was valid).
   */
  private senderUplinkBps(id: string): number {
    return this.init.plan.hosts.get(id)?.uplinkBps ?? Number.POSITIVE_INFINITY;
  }

  private host(id: string) {
    const h = this.init.plan.hosts.get(id);
    if (!h) throw new UnknownHostError(id, this.init.plan.scenarioName);
    return h;
  }

  private uplink(id: string): SequentialUplink {
    let q = this.uplinks.get(id);
    if (!q) {
      // Frame-paced production releases fragments apart in time: serve each to the children in
      // turn. Segment production releases a whole chunk at once: serve the chunk to each in turn.
      q = new SequentialUplink(
        this.host(id).uplinkBps,
        this.init.plan.stream.production === 'progressive' ? 'fragment' : 'chunk',
      );
      this.uplinks.set(id, q);
    }
    return q;
  }

  private downlink(id: string): DownlinkQueue {
    let q = this.downlinks.get(id);
    if (!q) {
      q = new DownlinkQueue(this.host(id).downlinkBps);
      this.downlinks.set(id, q);
    }
    return q;
  }
}
