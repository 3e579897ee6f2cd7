// A viewer on the peer path, the I/O shell of its policy (core/viewer/policy.ts): it carries out
// what the policy decides — streams from the fast-start edge or the assigned parent, asks the
// tracker for candidates, probes them (RTT through the same emulated links as chunks), joins,
// reports, fetches late chunks from the CDN edge — and feeds back what happened, on one timer.
import * as grpc from '@grpc/grpc-js';
import type { Chunk } from '../gen/livepath/v1/chunk.js';
import { TrackerClient, type Assignment, type NodeAddress, type RttSample } from '../gen/livepath/v1/tracker.js';
import type { Clock } from '../core/clock.js';
import { PROBE_BYTES } from '../core/viewer/constants.js';
import { ViewerPolicy, type ViewerAction, type ViewerInput } from '../core/viewer/policy.js';
import type { LinkEmulator } from '../linkemu/emulator.js';
import type { ClientPool, ParentRef } from '../relay/client.js';
import { LATE_CHUNKS_TO_REPORT, PROBES_PER_TARGET, PROBE_TIMEOUT_MS, WITHHOLD_SILENCE_MS } from './constants.js';
import { assignedDetail, reparentDetail, type EventKind } from '../results/events.js';
import { createClient } from '../runtime/grpc.js';
import type { Viewer } from './viewer.js';
import { type FragmentVerifier, publicKeyFromBytes } from '../relay/integrity.js';

export interface PeerAgentComponents {
  clock: Clock;
  link: LinkEmulator;
  pool: ClientPool;
  tracker: TrackerClient;
  /** where children reach this viewer's process */
  advertise: string;
  uplinkBps: number;
  /** 0 if unknown */
  downlinkBps?: number;
  /**
   * Fast start: the viewer's CDN edge (as the CDN path would pick it), streamed from the moment it
   * joins until the tracker's first assignment, so it plays while it probes. Absent: it waits.
   */
  cdnEdge?: ParentRef;
  /** last seq of the broadcast when known (a synthetic source of known length) */
  lastSeq?: number;
  event: (kind: EventKind, detail: string) => void;
  /** the process' verifier: takes the origin's key from the tracker when it had none */
  verifier?: FragmentVerifier;
}

export function createTrackerClient(address: string): TrackerClient {
  return createClient(TrackerClient, address);
}

export class PeerAgent {
  private readonly policy: ViewerPolicy<NodeAddress>;
  private join$: grpc.ClientReadableStream<Assignment> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAtUs: number | undefined;
  /** deadline fallbacks under the current peer parent */
  private late = { parentId: '', count: 0 };

  constructor(
    readonly viewer: Viewer,
    private readonly c: PeerAgentComponents,
  ) {
    const edge = c.cdnEdge;
    this.policy = new ViewerPolicy<NodeAddress>({
      viewerId: viewer.id,
      cdnEdge: edge ? { nodeId: edge.id, address: edge.address, role: 'edge' } : undefined,
      lastSeq: c.lastSeq,
    });
    viewer.onParentLost = () => this.feed({ kind: 'parent-lost' });
    viewer.onChunk = (seq, producedAtUs, durationUs) => this.feed({ kind: 'chunk', seq, producedAtUs, durationUs });
    viewer.onParentRejected = (parent, reason) => this.reportSuspect(parent.id, reason);
  }

  /**
   * The parent sent a bad fragment (or delivered too little): tell the tracker, which bans it and
   * re-assigns its children. A CDN node is not reported (the tracker trusts its roots): the viewer
   * retries it. Returns whether a new parent comes from the tracker.
   */
  reportSuspect(parentId: string, reason: string): boolean {
    const parent = this.policy.currentParent;
    if (!this.policy.assigned || parent?.role !== 'peer' || parent.nodeId !== parentId) return false;
    this.c.tracker.report(
      {
        peerId: this.viewer.id,
        lastSeq: 0,
        delayMs: 0,
        lateChunks: this.policy.fallbacks,
        parentLost: true,
        rtts: [],
        suspectId: parentId,
        suspectReason: reason,
      },
      () => undefined,
    );
    return true;
  }

  /**
   * A chunk missed its deadline under the current parent: a peer parent that makes this happen
   * LATE_CHUNKS_TO_REPORT times is reported (withhold when it went silent, else trickle) and the
   * tracker gives this viewer another one.
   */
  private lateUnderParent(): void {
    const parent = this.policy.currentParent;
    if (parent?.role !== 'peer') return;
    if (this.late.parentId !== parent.nodeId) this.late = { parentId: parent.nodeId, count: 0 };
    if (++this.late.count !== LATE_CHUNKS_TO_REPORT) return;
    const silentMs = (this.c.clock.nowUs() - this.viewer.parentLink.lastFragmentAtUs) / 1000;
    const reason = silentMs > WITHHOLD_SILENCE_MS ? 'withhold' : 'trickle';
    this.c.event('rejected', `${parent.nodeId}: ${reason}`);
    this.reportSuspect(parent.nodeId, reason);
  }

  get reparents(): number {
    return this.policy.reparents;
  }

  get fallbacks(): number {
    return this.policy.fallbacks;
  }

  /** The viewer is present: it plays from its CDN edge at once (fast start), probes, then joins. */
  join(): void {
    this.feed({ kind: 'start' });
  }

  leave(kind: 'graceful' | 'kill'): void {
    this.feed({ kind: 'leave', how: kind });
  }

  /** Tells the policy what happened, does what it decides, and re-arms its timer. */
  private feed(input: ViewerInput<NodeAddress>): void {
    for (const a of this.policy.handle(this.c.clock.nowUs(), input)) this.act(a);
    this.arm();
  }

  private arm(): void {
    const at = this.policy.nextTimeoutUs();
    if (at === this.timerAtUs) return;
    clearTimeout(this.timer);
    this.timerAtUs = at;
    this.timer =
      at === undefined
        ? undefined
        : setTimeout(
            () => {
              this.timerAtUs = undefined;
              this.feed({ kind: 'timeout' });
            },
            Math.max(0, (at - this.c.clock.nowUs()) / 1000),
          );
  }

  private act(a: ViewerAction<NodeAddress>): void {
    switch (a.type) {
      case 'attach': {
        const parent = { id: a.parent.nodeId, address: a.parent.address };
        if (a.fastStart) this.viewer.join(parent);
        else this.viewer.attach(parent, a.priority);
        return;
      }
      case 'candidates':
        void this.candidates(a.samples).then((targets) =>
          this.feed({ kind: 'candidates', requestId: a.requestId, targets }),
        );
        return;
      case 'probe':
        void Promise.all(a.targets.map((t) => this.probe(t))).then((samples) =>
          this.feed({ kind: 'probed', requestId: a.requestId, samples }),
        );
        return;
      case 'join':
        this.openJoin(a.samples);
        return;
      case 'report':
        this.c.tracker.report(
          {
            peerId: this.viewer.id,
            lastSeq: a.kind === 'periodic' ? Math.max(0, this.viewer.node.newest) : 0,
            delayMs: a.kind === 'parent-lost' ? 0 : this.viewer.node.delayMs,
            lateChunks: a.lateChunks,
            parentLost: a.kind === 'parent-lost',
            rtts: a.rtts,
            suspectId: '',
            suspectReason: '',
          },
          () => undefined,
        );
        return;
      case 'fetch':
        this.fetchFromEdge(a.seq, a.edge);
        this.lateUnderParent();
        return;
      case 'leave':
        clearTimeout(this.timer);
        if (a.how === 'graceful') {
          this.c.tracker.leave({ peerId: this.viewer.id }, () => undefined);
          this.viewer.leave();
        } else {
          this.viewer.kill();
        }
        this.join$?.cancel();
        return;
      case 'event':
        this.c.event(a.kind, a.detail);
        return;
      case 'assigned':
        this.c.event('assigned', assignedDetail(a.parentId, a.expectedDelayMs));
        return;
      case 'reparented':
        this.c.event('reparent', reparentDetail({ from: a.from, to: a.to, reason: a.reason }));
        return;
    }
  }

  private openJoin(samples: RttSample[]): void {
    const call = this.c.tracker.join({
      peerId: this.viewer.id,
      address: this.c.advertise,
      uplinkBps: this.c.uplinkBps,
      downlinkBps: this.c.downlinkBps ?? 0,
      rtts: samples,
      region: '',
    });
    this.join$ = call;
    call.on('data', (a: Assignment) => {
      if (this.c.verifier && !this.c.verifier.publicKey && a.originKey.length === 32) {
        this.c.verifier.setKey(publicKeyFromBytes(a.originKey));
      }
      if (!a.parent) return;
      this.feed({
        kind: 'assignment',
        parent: a.parent,
        fallback: a.fallback,
        reason: a.reason,
        expectedDelayMs: a.expectedDelayMs,
        priority: a.priority,
      });
    });
    // The tracker is not up yet (pods start in any order) or went away: the policy joins again,
    // with backoff. A viewer that has a parent keeps streaming from it meanwhile.
    const ended = (why: string) => {
      if (this.join$ !== call) return;
      this.join$ = undefined;
      this.feed({ kind: 'join-ended', why });
    };
    call.on('error', (e: grpc.ServiceError) => ended(e.details || e.message));
    call.on('end', () => ended('the tracker ended the join'));
  }

  private fetchFromEdge(seq: number, edge: NodeAddress): void {
    const call = this.c.pool.get(edge.address).subscribe({
      streamId: '',
      subscriberId: this.viewer.id,
      publisherId: edge.nodeId,
      fromSeq: seq,
      fromLive: false,
      toSeq: seq + 1,
      priority: 0,
    });
    call.on('data', (f: Chunk) => {
      this.viewer.node.arrive(f);
    });
    let done = false;
    const ended = () => {
      if (done) return;
      done = true;
      this.feed({ kind: 'fetched', seq });
    };
    call.on('end', ended);
    call.on('error', ended);
  }

  private candidates(rtts: RttSample[]): Promise<NodeAddress[]> {
    return new Promise((resolve) => {
      this.c.tracker.candidates(
        { peerId: this.viewer.id, rtts },
        new grpc.Metadata(),
        { deadline: Date.now() + PROBE_TIMEOUT_MS },
        (err, res) => resolve(err || !res ? [] : res.candidates),
      );
    });
  }

  /**
   * RTT to `target` (the least of PROBES_PER_TARGET, as ping does: the first probe on a new
   * connection also pays its setup, which is not network distance).
   */
  private async probe(target: NodeAddress): Promise<RttSample | undefined> {
    // Connect first: a probe must measure the network, not a TCP + HTTP/2 handshake.
    if (!(await this.c.pool.ready(target.address, PROBE_TIMEOUT_MS))) return undefined;
    let best: RttSample | undefined;
    for (let i = 0; i < PROBES_PER_TARGET; i++) {
      const r = await this.probeOnce(target);
      if (r && (!best || r.rttMs < best.rttMs)) best = r;
    }
    return best;
  }

  /** One RTT to `target` through the emulated links both ways, and the delay it reports. */
  private probeOnce(target: NodeAddress): Promise<RttSample | undefined> {
    const { clock, link } = this.c;
    const id = this.viewer.id;
    const startUs = clock.nowUs();
    const sentAtUs = link.depart(id, PROBE_BYTES);
    return new Promise((resolve) => {
      this.c.pool
        .get(target.address)
        .ping(
          { senderId: id, sentAtUs, targetId: target.nodeId },
          new grpc.Metadata(),
          { deadline: Date.now() + PROBE_TIMEOUT_MS },
          (err, res) => {
            if (err || !res) return resolve(undefined);
            link.receive(
              id,
              res.responderId,
              res.sentAtUs,
              PROBE_BYTES,
              (arrivalUs) =>
                resolve({ nodeId: target.nodeId, rttMs: (arrivalUs - startUs) / 1000, delayMs: res.delayMs }),
              'probe',
            );
          },
        );
    });
  }
}
