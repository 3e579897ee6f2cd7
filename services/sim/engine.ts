// The discrete-event simulator: one scenario, one mode, in virtual time, with the services'
// own decisions — core's overlay planner (as the tracker drives it), core's viewer policy (as
// the peer service drives it) and core's link arithmetic (as linkemu books it) — and none of their
// I/O. It calls back with the same chunk records and events the services write.
//
// Model, per release unit of the broadcaster (a frame, or the whole chunk in segment mode), cut
// into the stream's fragments: broadcaster uplink → origin downlink, then every relay forwards each
// fragment to its children in priority order the way relay/node.ts does (SequentialUplink on the
// sender, DownlinkQueue on the receiver, the path latency between them), cut-through. A fragment is
// pushed down the whole tree when it is released, with the tree as it is then (the emulation's
// relays also forward ahead of the model's arrival, on receipt); a viewer that subscribes later gets
// what its parent holds as backlog, as relay/node.ts sends it. Control messages (tracker calls) take
// CONTROL_LATENCY_US each way, as on loopback; probes take the model's RTT.
//
// Aggregation (above AGGREGATE_ABOVE_VIEWERS, or when asked): only each chunk's last release unit is
// simulated — it decides the chunk's delay, and the planner's capacity headroom keeps a parent's
// uplink idle between releases, so the earlier units would not have queued it.
//
// Cost: O(viewers × simulated fragments) link bookings, plus the planner's own cost per join and
// per improvement round, plus O(log n) per event (timers, control messages).
import { DownlinkQueue, SequentialUplink, serializationUs } from '../core/linkmodel.js';
import { fragmentRanges, wireBytes } from '../core/chunks.js';
import { FRAGMENT_OVERHEAD_BYTES } from '../core/constants.js';
import { OverlayPlanner, type Decision, type ProbeSample } from '../core/overlay/planner.js';
import { chunkReleases } from '../core/production.js';
import { Prng } from '../core/prng.js';
import { chunkBoundMs } from '../core/scenario/plan.js';
import type { Mode, RunPlan, ViewerPlan } from '../core/types.js';
import { PROBE_BYTES } from '../core/viewer/constants.js';
import { fallbackAtUs, ViewerPolicy, type RttSample, type ViewerAction } from '../core/viewer/policy.js';
import { DELAY_EWMA_WEIGHT, KEEP_CHUNKS, RECONNECT_MAX_MS, RECONNECT_MIN_MS } from '../relay/constants.js';
import { chunkCount, type ChunkRecord } from '../results/chunks.js';
import { assignedDetail, reparentDetail, type EventKind } from '../results/events.js';
import { IMPROVE_INTERVAL_MS, IMPROVE_MAX_MOVES_SHARE, IMPROVE_ON_REPORT_MAX_MOVES } from '../tracker/constants.js';
import { overlaySettings, plannerConfig } from '../tracker/settings.js';
import { CONTROL_LATENCY_US } from './constants.js';
import { EventQueue } from './queue.js';

export interface SimInit {
  plan: RunPlan;
  mode: Mode;
  /** simulate only each chunk's last release unit (see the header) */
  aggregate: boolean;
  /** which viewers' chunks and events are reported (default: all) */
  recorded?: (viewer: ViewerPlan) => boolean;
}

export interface SimComponents {
  onChunk: (r: ChunkRecord) => void;
  onEvent: (e: { atUs: number; kind: EventKind; viewer: string; detail: string }) => void;
  /** an RTT a viewer measured, as the tracker received it */
  onProximity?: (peer: string, node: string, rttMs: number) => void;
  /** called about once per simulated second */
  onProgress?: (p: { simUs: number; totalUs: number; events: number }) => void;
}

export interface SimResult {
  startUs: number;
  chunksProduced: number;
  events: number;
  reparents: number;
  fallbacks: number;
  /** the planner's work: wall-clock ms spent in its calls, and the joins it placed */
  plannerMs: number;
  joins: number;
  /** mean depth of the viewers below a root at the end (hops from a root; 1 = a root's child) */
  meanDepth: number;
}

/** A node as the policy and the planner name it. */
interface Target {
  nodeId: string;
  index: number;
}

interface Child {
  node: number;
  priority: number;
  fromSeq: number;
  /** inclusive; -1 = no end */
  toSeq: number;
}

interface SimFragment {
  /** release unit this fragment belongs to */
  release: number;
  offset: number;
  /** payload bytes */
  length: number;
  /** bytes on the wire (payload + framing) */
  wire: number;
}

type Role = 'broadcaster' | 'origin' | 'edge' | 'peer';

export class Simulation {
  private readonly queue = new EventQueue();
  private readonly plan: RunPlan;
  private readonly mode: Mode;
  private readonly ids: string[] = [];
  private readonly index = new Map<string, number>();
  private readonly roles: Role[] = [];
  private readonly uplinkBps: number[] = [];
  private readonly downlinkBps: number[] = [];
  private readonly uplinks: Array<SequentialUplink | undefined> = [];
  private readonly downlinks: Array<DownlinkQueue | undefined> = [];
  private readonly targets: Target[] = [];
  private readonly children: Child[][] = [];
  private readonly parent: Int32Array;
  /** latency to the current parent (µs) */
  private readonly parentLatencyUs: Float64Array;
  private readonly delayMs: Float64Array;
  // The store of recent chunks of every node, a ring of `keep` slots per node.
  private readonly keep: number;
  private readonly slotSeq: Int32Array;
  private readonly arrivals: Float64Array;
  private readonly got: Uint16Array;
  private readonly recordedSlot: Uint8Array;
  /** hops from the origin, and whether a peer relayed it, of the copy a node holds (for backlog) */
  private readonly slotHops: Uint8Array;
  private readonly slotViaPeer: Uint8Array;
  private readonly newestSeq: Int32Array;
  private readonly newestCompleteSeq: Int32Array;
  // Viewers (index ≥ firstViewer).
  private readonly firstViewer: number;
  private readonly viewerPlans: ViewerPlan[];
  private readonly present: Uint8Array;
  private readonly firstSeq: Int32Array;
  private readonly resumeSeq: Int32Array;
  private readonly recorded: Uint8Array;
  private readonly policies: Array<ViewerPolicy<Target> | undefined> = [];
  private readonly timerAtUs: Float64Array;
  private readonly reconnectUs: Float64Array;
  /** increases on each (re)parent: a stale reconnect attempt is dropped */
  private readonly attachGen: Uint32Array;
  private readonly fragments: SimFragment[];
  private readonly releases: ReturnType<typeof chunkReleases>;
  private readonly lastReleaseBytes: number;
  private readonly chunks: number;
  private readonly startUs = 0;
  // The tracker.
  private readonly planner: OverlayPlanner | undefined;
  private readonly joined = new Map<number, Target | undefined>();
  private plannerMs = 0;
  private joins = 0;
  private reparents = 0;
  private fallbacks = 0;
  private readonly rootOrder: number[] = [];

  constructor(
    private readonly init: SimInit,
    private readonly c: SimComponents,
  ) {
    const { plan } = init;
    this.plan = plan;
    this.mode = init.mode;
    const add = (id: string, role: Role) => {
      const host = plan.hosts.get(id);
      this.index.set(id, this.ids.length);
      this.targets.push({ nodeId: id, index: this.ids.length });
      this.ids.push(id);
      this.roles.push(role);
      this.uplinkBps.push(host?.uplinkBps ?? 10e9);
      this.downlinkBps.push(host?.downlinkBps ?? 10e9);
      this.children.push([]);
    };
    add(plan.broadcasterId, 'broadcaster');
    add(plan.originId, 'origin');
    for (const e of plan.edges) add(e.id, 'edge');
    this.firstViewer = this.ids.length;
    this.viewerPlans = plan.viewers;
    for (const v of plan.viewers) add(v.id, 'peer');
    const n = this.ids.length;
    this.parent = new Int32Array(n).fill(-1);
    this.parentLatencyUs = new Float64Array(n);
    this.delayMs = new Float64Array(n);
    this.keep = init.aggregate ? Math.min(KEEP_CHUNKS, 16) : KEEP_CHUNKS;

    const s = plan.stream;
    this.chunks = chunkCount(plan);
    this.releases = chunkReleases(s, 0, 0);
    this.lastReleaseBytes = this.releases.at(-1)!.bytes;
    const simulated = init.aggregate ? [this.releases.at(-1)!] : this.releases;
    this.fragments = [];
    for (const r of simulated)
      for (const piece of fragmentRanges(r.bytes, s.fragmentBytes))
        this.fragments.push({
          release: r.index,
          offset: r.offset + piece.offset,
          length: piece.length,
          wire: wireBytes(piece.length),
        });
    const slots = n * this.keep;
    this.slotSeq = new Int32Array(slots).fill(-1);
    this.arrivals = new Float64Array(slots * this.fragments.length).fill(Number.NaN);
    this.got = new Uint16Array(slots);
    this.recordedSlot = new Uint8Array(slots);
    this.slotHops = new Uint8Array(slots);
    this.slotViaPeer = new Uint8Array(slots);
    this.newestSeq = new Int32Array(n).fill(-1);
    this.newestCompleteSeq = new Int32Array(n).fill(-1);
    const viewers = plan.viewers.length;
    this.present = new Uint8Array(n);
    this.firstSeq = new Int32Array(n).fill(-1);
    this.resumeSeq = new Int32Array(n).fill(-1);
    this.recorded = new Uint8Array(n);
    this.timerAtUs = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
    this.reconnectUs = new Float64Array(n);
    this.attachGen = new Uint32Array(n);
    for (let i = 0; i < viewers; i++)
      this.recorded[this.firstViewer + i] = init.recorded?.(plan.viewers[i]!) === false ? 0 : 1;

    if (this.mode === 'p2p') {
      const settings = overlaySettings(plan);
      this.planner = new OverlayPlanner(plannerConfig(settings), Prng.derive(plan.seed, 'tracker'));
      this.planner.addRoot(plan.originId, settings.originSlots, this.uplinkBps[1]!);
      this.rootOrder.push(1);
      for (const e of plan.edges) {
        const i = this.index.get(e.id)!;
        this.planner.addRoot(e.id, settings.edgeSlots, this.uplinkBps[i]!);
        this.rootOrder.push(i);
      }
    }
  }

  /** Runs the whole broadcast (and the chunks in flight after it); returns what the summary needs. */
  run(): SimResult {
    const { plan, queue } = this;
    // Edges subscribe to their parents before the broadcast starts.
    for (const e of plan.edges) this.subscribe(this.index.get(e.id)!, this.index.get(e.parentId)!, 0, 0, -1);
    for (let seq = 0; seq < this.chunks; seq++) {
      for (const r of this.releases) {
        if (this.init.aggregate && r.index !== this.releases.length - 1) continue;
        queue.at(r.atUs + seq * plan.stream.chunkDurationUs, () => this.release(seq, r.index));
      }
    }
    for (let i = 0; i < this.viewerPlans.length; i++) {
      const vp = this.viewerPlans[i]!;
      const node = this.firstViewer + i;
      queue.at(this.startUs + vp.joinAtS * 1e6, () => this.join(node));
      if (vp.leaveAtS !== undefined)
        queue.at(this.startUs + vp.leaveAtS * 1e6, () => this.leave(node, vp.leaveKind ?? 'graceful'));
    }
    const totalUs = plan.durationS * 1e6;
    if (this.planner) {
      const improve = () => {
        this.tracked(() => {
          const moves = this.planner!.improve(
            Math.max(1, Math.ceil(this.planner!.peerCount * IMPROVE_MAX_MOVES_SHARE)),
          );
          for (const d of moves) this.send(d);
        });
        if (queue.nowUs + IMPROVE_INTERVAL_MS * 1000 <= totalUs)
          queue.at(queue.nowUs + IMPROVE_INTERVAL_MS * 1000, improve);
      };
      queue.at(IMPROVE_INTERVAL_MS * 1000, improve);
    }
    // The run ends a playout delay after the last chunk: what has not arrived by then is late.
    const endUs = totalUs + 2_000_000;
    for (let t = 1_000_000; ; t += 1_000_000) {
      const more = queue.runUntil(Math.min(t, endUs));
      this.c.onProgress?.({ simUs: Math.min(t, totalUs), totalUs, events: queue.processed });
      if (!more || t >= endUs) break;
    }
    return {
      startUs: this.startUs,
      chunksProduced: this.chunks,
      events: queue.processed,
      reparents: this.reparents,
      fallbacks: this.fallbacks,
      plannerMs: this.plannerMs,
      joins: this.joins,
      meanDepth: this.meanDepth(),
    };
  }

  // ---- the link model ---------------------------------------------------------------------------

  private uplink(i: number): SequentialUplink {
    let q = this.uplinks[i];
    if (!q) {
      q = new SequentialUplink(
        this.uplinkBps[i]!,
        this.plan.stream.production === 'progressive' ? 'fragment' : 'chunk',
      );
      this.uplinks[i] = q;
    }
    return q;
  }

  private downlink(i: number): DownlinkQueue {
    let q = this.downlinks[i];
    if (!q) {
      q = new DownlinkQueue(this.downlinkBps[i]!);
      this.downlinks[i] = q;
    }
    return q;
  }

  private latencyUs(a: number, b: number): number {
    return this.plan.latencyMs(this.ids[a]!, this.ids[b]!) * 1000;
  }

  /** linkemu's framing of a chunk prefix: payload + one header per fragment it spans. */
  private wire(payloadBytes: number): number {
    return payloadBytes + Math.ceil(payloadBytes / this.plan.stream.fragmentBytes) * FRAGMENT_OVERHEAD_BYTES;
  }

  /** The broadcaster releases unit `release` of chunk `seq`: its fragments go to the origin and down the tree. */
  private release(seq: number, release: number): void {
    const nowUs = this.queue.nowUs;
    const bc = 0;
    const origin = 1;
    const latency = this.latencyUs(bc, origin);
    for (let f = 0; f < this.fragments.length; f++) {
      const frag = this.fragments[f]!;
      if (frag.release !== release) continue;
      const sentAt = Math.ceil(this.uplink(bc).depart(nowUs, frag.wire));
      const arrival = this.downlink(origin).arrive(sentAt, frag.wire, this.uplinkBps[bc]!, latency);
      this.deliver(origin, seq, f, arrival, 0, bc, false);
    }
  }

  /**
   * Fragment `f` of chunk `seq` reaches node `n` at `arrivalUs`: stored (the earlier copy wins), and
   * forwarded at once to every child that wants it, as relay/node.ts does. Iterative: trees are deep.
   */
  private deliver(n0: number, seq: number, f: number, arrival0: number, hops0: number, sender0: number, via0: boolean) {
    const F = this.fragments.length;
    const frag = this.fragments[f]!;
    const stack: Array<[number, number, number, number, boolean]> = [[n0, arrival0, hops0, sender0, via0]];
    const totalWire = this.wire(this.plan.stream.chunkBytes);
    const offsetWire = this.wire(frag.offset);
    while (stack.length > 0) {
      const [n, arrival, hops, sender, viaPeer] = stack.pop()!;
      const slot = n * this.keep + (seq % this.keep);
      if (this.slotSeq[slot] !== seq) {
        if (this.slotSeq[slot]! > seq) continue; // older than this node keeps
        this.slotSeq[slot] = seq;
        this.arrivals.fill(Number.NaN, slot * F, slot * F + F);
        this.got[slot] = 0;
        this.recordedSlot[slot] = 0;
        if (seq > this.newestSeq[n]!) this.newestSeq[n] = seq;
        if (this.firstSeq[n] === -1) this.firstSeq[n] = seq;
      }
      const at = slot * F + f;
      const old = this.arrivals[at]!;
      if (!Number.isNaN(old) && old <= arrival) continue;
      this.arrivals[at] = arrival;
      this.slotHops[slot] = Math.min(255, hops);
      this.slotViaPeer[slot] = viaPeer ? 1 : 0;
      if (Number.isNaN(old)) this.got[slot]!++;
      if (this.got[slot] === F) {
        if (seq > this.newestCompleteSeq[n]!) this.newestCompleteSeq[n] = seq;
        let last = 0;
        for (let k = slot * F; k < slot * F + F; k++) last = Math.max(last, this.arrivals[k]!);
        this.completed(n, seq, last, hops, sender, viaPeer);
      }
      const kids = this.children[n]!;
      if (kids.length === 0) continue;
      const up = this.uplink(n);
      const fromPeer = viaPeer || this.roles[n] === 'peer';
      for (const child of kids) {
        if (seq < child.fromSeq || (child.toSeq >= 0 && seq > child.toSeq)) continue;
        const sentAt = Math.ceil(
          up.departFragment(arrival, seq, this.ids[child.node]!, offsetWire, frag.wire, totalWire),
        );
        const childArrival = this.downlink(child.node).arrive(
          sentAt,
          frag.wire,
          this.uplinkBps[n]!,
          this.parent[child.node] === n ? this.parentLatencyUs[child.node]! : this.latencyUs(n, child.node),
        );
        stack.push([child.node, childArrival, hops + 1, n, fromPeer]);
      }
    }
  }

  /** Node `n` holds chunk `seq` whole at `atUs` (its last fragment came from `sender`, `hops` hops from the origin). */
  private completed(n: number, seq: number, atUs: number, hops: number, sender: number, viaPeer: boolean): void {
    const producedUs = this.producedUs(seq);
    const d = (atUs - producedUs) / 1000;
    this.delayMs[n] = this.delayMs[n] === 0 ? d : this.delayMs[n]! + DELAY_EWMA_WEIGHT * (d - this.delayMs[n]!);
    if (n < this.firstViewer || !this.present[n]) return;
    const record = () => {
      const slot = n * this.keep + (seq % this.keep);
      if (this.slotSeq[slot] !== seq || this.recordedSlot[slot] || !this.present[n]) return;
      this.recordedSlot[slot] = 1;
      const policy = this.policies[n];
      if (policy)
        this.feed(n, { kind: 'chunk', seq, producedAtUs: producedUs, durationUs: this.plan.stream.chunkDurationUs });
      if (!this.recorded[n]) return;
      const vp = this.viewerPlans[n - this.firstViewer]!;
      this.c.onChunk({
        viewer: vp.id,
        seq,
        producedAtUs: producedUs,
        receivedAtUs: atUs,
        delayMs: d,
        boundMs: chunkBoundMs(vp, this.lastReleaseBytes),
        path: viaPeer ? 'peer' : 'cdn',
        hops,
        parent: this.ids[sender]!,
        bytes: this.plan.stream.chunkBytes,
      });
    };
    // The policy reads a chunk's arrival only from its fallback time on: one complete before then
    // is told at once (the event queue is spared a delivery per viewer per chunk); a later one, and
    // any copy that may race a CDN fallback, when it arrives.
    const timeline = this.policies[n]?.timeline;
    if (!timeline || atUs <= fallbackAtUs(timeline, seq)) record();
    else this.queue.at(atUs, record);
  }

  private producedUs(seq: number): number {
    return this.startUs + seq * this.plan.stream.chunkDurationUs + this.releases.at(-1)!.atUs;
  }

  // ---- subscriptions (relay/node.ts subscribe, relay/client.ts ParentLink) ---------------------

  /** Child `c` subscribes to `p` from `fromSeq` (−1: the live edge) to `toSeq` (−1: no end). */
  private subscribe(c: number, p: number, priority: number, fromSeq: number, toSeq: number): void {
    const live = this.newestCompleteSeq[p]! >= 0 ? this.newestCompleteSeq[p]! : this.newestSeq[p]!;
    const from = fromSeq < 0 ? Math.max(0, live) : fromSeq;
    const kids = this.children[p]!;
    const child: Child = { node: c, priority, fromSeq: from, toSeq };
    const at = kids.findIndex((k) => k.priority < priority);
    if (at < 0) kids.push(child);
    else kids.splice(at, 0, child);
    if (toSeq < 0) {
      this.parent[c] = p;
      this.parentLatencyUs[c] = this.latencyUs(p, c);
    }
    // Backlog: what the parent holds from `from` on goes out as a plain queue from now.
    const nowUs = this.queue.nowUs;
    const F = this.fragments.length;
    const newest = this.newestSeq[p]!;
    const latency = this.latencyUs(p, c);
    for (let seq = Math.max(from, newest - this.keep + 1); seq <= newest; seq++) {
      if (toSeq >= 0 && seq > toSeq) break;
      const slot = p * this.keep + (seq % this.keep);
      if (this.slotSeq[slot] !== seq) continue;
      for (let f = 0; f < F; f++) {
        const arrival = this.arrivals[slot * F + f]!;
        if (Number.isNaN(arrival)) continue;
        const frag = this.fragments[f]!;
        const sentAt = Math.ceil(this.uplink(p).depart(Math.max(arrival, nowUs), frag.wire));
        const childArrival = this.downlink(c).arrive(sentAt, frag.wire, this.uplinkBps[p]!, latency);
        const via = this.slotViaPeer[slot] === 1 || this.roles[p] === 'peer';
        this.deliver(c, seq, f, childArrival, this.slotHops[slot]! + 1, p, via);
      }
    }
  }

  private unsubscribe(c: number, p: number): void {
    const kids = this.children[p];
    if (!kids) return;
    const at = kids.findIndex((k) => k.node === c && k.toSeq < 0);
    if (at >= 0) kids.splice(at, 1);
    if (this.parent[c] === p) this.parent[c] = -1;
  }

  /** ParentLink.nextMissingSeq: the lowest seq from the first one received that is not held whole. */
  private nextMissingSeq(n: number): number {
    if (this.firstSeq[n] === -1) return -1;
    const newest = this.newestSeq[n]!;
    let s = Math.max(this.resumeSeq[n]!, newest - this.keep + 1, this.firstSeq[n]!);
    while (s <= newest && this.holdsWhole(n, s)) s++;
    this.resumeSeq[n] = s;
    return s;
  }

  private holdsWhole(n: number, seq: number): boolean {
    const slot = n * this.keep + (seq % this.keep);
    return this.slotSeq[slot] === seq && this.got[slot] === this.fragments.length;
  }

  /** (Re-)parents viewer `n` under `p`, resuming from its next missing chunk (the live edge when it has none). */
  private attach(n: number, p: number, priority: number): void {
    const old = this.parent[n]!;
    if (old >= 0) this.unsubscribe(n, old);
    this.attachGen[n]!++;
    this.reconnectUs[n] = RECONNECT_MIN_MS * 1000;
    this.subscribe(n, p, priority, this.nextMissingSeq(n), -1);
  }

  /** Every child of `n` loses its parent: their streams fail or end, and their links retry. */
  private orphanChildren(n: number): void {
    const kids = this.children[n]!;
    this.children[n] = [];
    for (const k of kids) {
      if (k.toSeq >= 0) continue;
      if (this.parent[k.node] === n) this.parent[k.node] = -1;
      const gen = this.attachGen[k.node]!;
      this.queue.at(this.queue.nowUs + CONTROL_LATENCY_US, () => this.parentFailed(k.node, gen));
    }
  }

  /** The parent link of `n` saw its stream fail: tell the policy, and retry (with backoff) until re-parented. */
  private parentFailed(n: number, gen: number): void {
    if (!this.present[n] || this.attachGen[n] !== gen) return;
    this.feed(n, { kind: 'parent-lost' });
    const backoff = this.reconnectUs[n]!;
    this.reconnectUs[n] = Math.min(RECONNECT_MAX_MS * 1000, backoff * 2);
    this.queue.at(this.queue.nowUs + backoff, () => this.parentFailed(n, gen));
  }

  // ---- viewers -------------------------------------------------------------------------------

  private event(n: number, kind: EventKind, detail: string): void {
    if (!this.recorded[n]) return;
    this.c.onEvent({ atUs: this.queue.nowUs, kind, viewer: this.ids[n]!, detail });
  }

  private join(n: number): void {
    this.present[n] = 1;
    const vp = this.viewerPlans[n - this.firstViewer]!;
    const edge = this.index.get(vp.edgeId)!;
    if (this.mode === 'cdn') {
      this.event(n, 'join', vp.edgeId);
      this.attach(n, edge, 0);
      return;
    }
    this.event(n, 'join', 'tracker');
    this.policies[n] = new ViewerPolicy<Target>({
      viewerId: vp.id,
      cdnEdge: this.targets[edge],
      lastSeq: this.chunks - 1,
    });
    this.feed(n, { kind: 'start' });
  }

  private leave(n: number, how: 'graceful' | 'kill'): void {
    if (!this.present[n]) return;
    this.event(n, how === 'kill' ? 'kill' : 'leave', '');
    if (this.policies[n]) this.feed(n, { kind: 'leave', how });
    this.present[n] = 0;
    const p = this.parent[n]!;
    if (p >= 0) this.unsubscribe(n, p);
    this.orphanChildren(n);
    this.policies[n] = undefined;
    // The tracker learns of it from the Leave call, or from the join stream's cancellation.
    if (this.planner) this.control(() => this.trackerRemove(n));
  }

  /** Gives the policy of viewer `n` an input, carries out its actions, and re-arms its timer. */
  private feed(n: number, input: Parameters<ViewerPolicy<Target>['handle']>[1]): void {
    const policy = this.policies[n];
    if (!policy) return;
    for (const a of policy.handle(this.queue.nowUs, input)) this.act(n, a);
    this.arm(n);
  }

  private arm(n: number): void {
    const at = this.policies[n]?.nextTimeoutUs();
    // One pending timer per viewer: arm only when earlier than the one pending; a timer that
    // fires early finds nothing due and arms again.
    if (at === undefined || at >= this.timerAtUs[n]!) return;
    this.timerAtUs[n] = at;
    this.queue.at(at, () => {
      if (this.timerAtUs[n] !== at) return;
      this.timerAtUs[n] = Number.POSITIVE_INFINITY;
      const due = this.policies[n]?.nextTimeoutUs();
      if (due === undefined) return;
      if (due <= this.queue.nowUs) this.feed(n, { kind: 'timeout' });
      else this.arm(n);
    });
  }

  private act(n: number, a: ViewerAction<Target>): void {
    switch (a.type) {
      case 'attach':
        this.attach(n, a.parent.index, a.priority ?? 0);
        return;
      case 'candidates':
        this.control(() => {
          const targets = this.tracked(() => {
            this.planner!.register(this.ids[n]!, 0);
            if (a.samples.length > 0) this.observe(n, a.samples);
            return this.planner!.candidatesFor(this.ids[n]!);
          });
          const answer = targets.map((id) => this.targets[this.index.get(id)!]!);
          this.control(() => this.feed(n, { kind: 'candidates', requestId: a.requestId, targets: answer }));
        });
        return;
      case 'probe': {
        const samples = a.targets.map((t) => this.probe(n, t.index));
        const tookUs = Math.max(0, ...samples.map((s) => s.rttMs * 1000));
        this.queue.at(this.queue.nowUs + tookUs + CONTROL_LATENCY_US, () =>
          this.feed(n, { kind: 'probed', requestId: a.requestId, samples }),
        );
        return;
      }
      case 'join':
        this.control(() => this.trackerJoin(n, a.samples));
        return;
      case 'report': {
        const delayMs = a.kind === 'parent-lost' ? 0 : this.delayMs[n]!;
        this.control(() => this.trackerReport(n, delayMs, a.rtts, a.kind === 'parent-lost'));
        return;
      }
      case 'fetch':
        this.fallbacks++;
        this.fetch(n, a.seq, a.edge.index);
        return;
      case 'leave':
        return; // the simulation removes the node itself (leave())
      case 'event':
        this.event(n, a.kind, a.detail);
        return;
      case 'assigned':
        this.event(n, 'assigned', assignedDetail(a.parentId, a.expectedDelayMs));
        return;
      case 'reparented':
        this.reparents++;
        this.event(n, 'reparent', reparentDetail({ from: a.from, to: a.to, reason: a.reason }));
        return;
    }
  }

  /** The model's RTT from viewer `n` to node `t` (a 64-byte ping each way) and the delay `t` reports. */
  private probe(n: number, t: number): RttSample {
    const ser = (bps: number) => serializationUs(PROBE_BYTES, bps);
    const rttUs =
      2 * this.latencyUs(n, t) +
      ser(this.uplinkBps[n]!) +
      ser(this.downlinkBps[t]!) +
      ser(this.uplinkBps[t]!) +
      ser(this.downlinkBps[n]!);
    return { nodeId: this.ids[t]!, rttMs: rttUs / 1000, delayMs: this.delayMs[t]! };
  }

  /** Fetches chunk `seq` alone from edge `e` (a subscription from `seq` to `seq`), then tells the policy. */
  private fetch(n: number, seq: number, e: number): void {
    const before = this.fetchArrival(n, seq);
    this.subscribe(n, e, 0, seq, seq);
    const kids = this.children[e]!;
    // Held whole at the edge: the backlog was all of it, the stream ends with it.
    if (this.holdsWhole(e, seq)) {
      const at = kids.findIndex((k) => k.node === n && k.toSeq === seq);
      if (at >= 0) kids.splice(at, 1);
    }
    const doneAt = Math.max(this.queue.nowUs, this.fetchArrival(n, seq) ?? before ?? this.queue.nowUs);
    this.queue.at(doneAt, () => {
      const at = kids.findIndex((k) => k.node === n && k.toSeq === seq);
      if (at >= 0) kids.splice(at, 1);
      this.feed(n, { kind: 'fetched', seq });
    });
  }

  private fetchArrival(n: number, seq: number): number | undefined {
    const F = this.fragments.length;
    const slot = n * this.keep + (seq % this.keep);
    if (this.slotSeq[slot] !== seq || this.got[slot] !== F) return undefined;
    let last = 0;
    for (let k = slot * F; k < slot * F + F; k++) last = Math.max(last, this.arrivals[k]!);
    return last;
  }

  // ---- the tracker (as tracker/tracker.ts drives the planner) --------------------------------

  private control(run: () => void): void {
    this.queue.at(this.queue.nowUs + CONTROL_LATENCY_US, run);
  }

  /** Times a planner call (its work per join is one of the figures of a scaling run). */
  private tracked<T>(run: () => T): T {
    const t0 = performance.now();
    try {
      return run();
    } finally {
      this.plannerMs += performance.now() - t0;
    }
  }

  private observe(n: number, samples: ProbeSample[]): void {
    this.planner!.observe(this.ids[n]!, samples);
    if (this.c.onProximity && this.recorded[n])
      for (const s of samples) this.c.onProximity(this.ids[n]!, s.nodeId, s.rttMs);
  }

  private trackerJoin(n: number, samples: RttSample[]): void {
    if (!this.present[n]) return;
    const id = this.ids[n]!;
    const planner = this.planner!;
    const edges = samples
      .filter((s) => this.roles[this.index.get(s.nodeId) ?? 0] === 'edge')
      .sort((a, b) => a.rttMs - b.rttMs);
    const fallbackId = edges[0]?.nodeId ?? this.plan.edges[0]?.id;
    this.joined.set(n, fallbackId === undefined ? undefined : this.targets[this.index.get(fallbackId)!]);
    this.joins++;
    const d = this.tracked(() => {
      planner.register(id, this.uplinkBps[n]!, this.downlinkBps[n]!);
      this.observe(n, samples);
      return planner.join(id);
    });
    this.send(d);
  }

  private trackerReport(n: number, delayMs: number, rtts: RttSample[], parentLost: boolean): void {
    const planner = this.planner!;
    const id = this.ids[n]!;
    if (!planner.has(id)) return;
    const moves = this.tracked(() => {
      const out: Decision[] = [];
      planner.report(id, delayMs);
      if (rtts.length > 0) {
        this.observe(n, rtts);
        out.push(...planner.improve(IMPROVE_ON_REPORT_MAX_MOVES, false));
      }
      if (parentLost) {
        const d = planner.parentLost(id);
        if (d) out.push(d);
      }
      return out;
    });
    for (const d of moves) this.send(d);
  }

  private trackerRemove(n: number): void {
    if (!this.joined.has(n) && !this.planner!.has(this.ids[n]!)) return;
    this.joined.delete(n);
    const moves = this.tracked(() => this.planner!.leave(this.ids[n]!));
    for (const d of moves) this.send(d);
  }

  /** An assignment on the viewer's join stream. */
  private send(d: Decision): void {
    const n = this.index.get(d.peerId)!;
    if (!this.joined.has(n)) return;
    const fallback = this.joined.get(n);
    const parent = this.targets[this.index.get(d.parentId)!]!;
    this.control(() => {
      if (!this.present[n]) return;
      this.feed(n, {
        kind: 'assignment',
        parent,
        fallback,
        reason: d.reason,
        expectedDelayMs: d.expectedDelayMs,
        priority: d.priority,
      });
    });
  }

  private meanDepth(): number {
    let sum = 0;
    let count = 0;
    for (let n = this.firstViewer; n < this.ids.length; n++) {
      if (!this.present[n] || this.parent[n]! < 0) continue;
      let depth = 0;
      for (let p = n; p >= this.firstViewer && depth < 10_000; p = this.parent[p]!) depth++;
      sum += depth;
      count++;
    }
    return count > 0 ? sum / count : 0;
  }
}
