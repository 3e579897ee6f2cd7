// User-space link emulation for backends whose kernel cannot delay packets (no netem) or where
// the user has no root. A message is stamped with its departure from the sender's uplink and held
// at the receiver until departure + path latency (+ downlink serialization): transport jitter below
// the emulated delay is absorbed, and what remains (timer lateness) is measured, per hop.
//
// Model: each host has one access link (uplink, downlink); core links are never bottlenecks here
// (their latency is in the path latency, their bandwidth is ignored). Mininet emulates every link.
import type { RunPlan } from '../core/types.js';
import { DownlinkQueue, SequentialUplink } from '../core/linkmodel.js';
import { Recorder } from '../core/stats.js';
import type { Clock } from './clock.js';
import { DeliveryScheduler } from './scheduler.js';

/**
 * How links are shaped: 'linkemu' emulates latency and access bandwidth here; 'delay-only'
 * emulates latency here while the kernel shapes bandwidth (Mininet without netem: htb only);
 * 'kernel' leaves both to the network (Mininet with netem, a real cluster).
 */
export type LinkShaping = 'linkemu' | 'delay-only' | 'kernel';

export interface LinkEmulatorInit {
  plan: RunPlan;
  mechanism?: LinkShaping;
}

export interface LinkEmulatorComponents {
  clock: Clock;
  /** Called with each hop's (actual − intended) release time in seconds, e.g. for a metric. */
  onError?: (errorS: number) => void;
}

export class UnknownHostError extends Error {
  constructor(readonly hostId: string) {
    super(`host "${hostId}" is not in the scenario: check the node id passed with --node/--viewers`);
  }
}

export class LinkEmulator {
  readonly scheduler: DeliveryScheduler;
  /** |actual − intended| release time per hop, ms. */
  readonly errorMs = new Recorder(0.001);
  private readonly uplinks = new Map<string, SequentialUplink>();
  private readonly downlinks = new Map<string, DownlinkQueue>();
  private readonly latencyUsCache = new Map<string, number>();

  constructor(
    private readonly init: LinkEmulatorInit,
    private readonly components: LinkEmulatorComponents,
  ) {
    this.scheduler = new DeliveryScheduler(components.clock);
  }

  get mechanism(): LinkShaping {
    return this.init.mechanism ?? 'linkemu';
  }

  /**
   * When a message of `bytes` handed to `senderId`'s uplink at `atUs` (default: now) will have
   * left it (µs). Relays pass the *intended* arrival time of what they forward, so one hop's timer
   * lateness does not shift the next hop's schedule: errors do not accumulate along a path.
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
  departFragment(senderId: string, childId: string, f: { seq: number; offset: number; length: number; totalBytes: number }, atUs?: number): number {
    const nowUs = this.components.clock.nowUs();
    if (this.mechanism !== 'linkemu') return Math.round(atUs ?? nowUs);
    return Math.ceil(this.uplink(senderId).departFragment(atUs ?? nowUs, f.seq, childId, f.offset, f.length, f.totalBytes));
  }

  /**
   * Holds a message that `senderId` stamped `sentAtUs` until its emulated arrival at `receiverId`,
   * then calls `deliver(actualUs, intendedUs)`.
   */
  receive(receiverId: string, senderId: string, sentAtUs: number, bytes: number, deliver: (actualUs: number, intendedUs: number) => void): void {
    if (this.mechanism === 'kernel') {
      const nowUs = this.components.clock.nowUs();
      deliver(nowUs, nowUs);
      return;
    }
    const latencyUs = this.latencyUs(senderId, receiverId);
    const intendedUs =
      this.mechanism === 'delay-only'
        ? sentAtUs + latencyUs
        : this.downlink(receiverId).arrive(sentAtUs, bytes, this.host(senderId).uplinkBps, latencyUs);
    this.scheduler.schedule(intendedUs, (actualUs) => {
      const errorUs = actualUs - intendedUs;
      this.errorMs.record(Math.abs(errorUs) / 1000);
      this.components.onError?.(Math.abs(errorUs) / 1e6);
      deliver(actualUs, intendedUs);
    });
  }

  /** One-way latency between two hosts (µs), as the scenario defines it. */
  latencyUs(a: string, b: string): number {
    const key = a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
    let v = this.latencyUsCache.get(key);
    if (v === undefined) {
      v = this.init.plan.latencyMs(a, b) * 1000;
      this.latencyUsCache.set(key, v);
    }
    return v;
  }

  stop(): void {
    this.scheduler.stop();
  }

  private host(id: string) {
    const h = this.init.plan.hosts.get(id);
    if (!h) throw new UnknownHostError(id);
    return h;
  }

  private uplink(id: string): SequentialUplink {
    let q = this.uplinks.get(id);
    if (!q) {
      q = new SequentialUplink(this.host(id).uplinkBps);
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
