// A viewer on the peer path: it starts playing from its CDN edge at once (fast start), probes the
// candidates the tracker names (RTT through the same emulated links as chunks), joins, moves to
// the peer parent the tracker assigns and follows its re-assignments, reports its delay, and
// fetches from its CDN edge any chunk still missing near its playout deadline.
import * as grpc from '@grpc/grpc-js';
import type { Chunk } from '../gen/livepath/v1/chunk.js';
import { TrackerClient, type Assignment, type NodeAddress, type RttSample } from '../gen/livepath/v1/tracker.js';
import type { Clock } from '../core/clock.js';
import type { LinkEmulator } from '../linkemu/emulator.js';
import type { ClientPool, ParentRef } from '../relay/client.js';
import {
  FALLBACK_LEAD_MS,
  JOIN_RETRY_MAX_MS,
  JOIN_RETRY_MIN_MS,
  MAX_FALLBACKS_IN_FLIGHT,
  PROBES_PER_TARGET,
  PROBE_TIMEOUT_MS,
  REPROBE_FIRST_MS,
  REPROBE_INTERVAL_MS,
} from './constants.js';
import { PLAYOUT_DELAY_MS } from '../results/constants.js';
import { assignedDetail, reparentDetail, type EventKind } from '../results/events.js';
import { createClient } from '../runtime/grpc.js';
import type { Viewer } from './viewer.js';

const PROBE_BYTES = 64;

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
}

export function createTrackerClient(address: string): TrackerClient {
  return createClient(TrackerClient, address);
}

export class PeerAgent {
  private join$: grpc.ClientReadableStream<Assignment> | undefined;
  private fallback: NodeAddress | undefined;
  private readonly fetching = new Set<number>();
  private nextDeadlineSeq: number | undefined;
  private assignments = 0;
  private gone = false;
  private readonly samples: RttSample[] = [];
  private reprobeTimer: NodeJS.Timeout | undefined;
  private lastLostReportUs = 0;
  private joinRetryMs = JOIN_RETRY_MIN_MS;
  private joinRetry: NodeJS.Timeout | undefined;
  reparents = 0;
  fallbacks = 0;

  constructor(
    readonly viewer: Viewer,
    private readonly c: PeerAgentComponents,
  ) {
    viewer.onParentLost = () => this.reportParentLost();
  }

  /**
   * Plays from the CDN edge at once (fast start), probes candidates in two rounds, then joins and
   * follows assignments: the first one moves the viewer from its edge to its peer parent, resuming
   * from the next chunk it does not hold whole (nothing skipped, nothing counted twice).
   */
  async join(): Promise<void> {
    const id = this.viewer.id;
    if (this.c.cdnEdge && this.assignments === 0 && !this.viewer.parentLink.current) {
      this.c.event('fast-start', this.c.cdnEdge.id);
      this.viewer.join(this.c.cdnEdge);
    }
    const samples = this.samples;
    for (let round = 0; round < 2 && !this.gone; round++) {
      const t0 = this.c.clock.nowUs();
      const candidates = await this.candidates(samples);
      const t1 = this.c.clock.nowUs();
      const fresh = candidates.filter((cand) => !samples.some((s) => s.nodeId === cand.nodeId));
      const results = await Promise.all(fresh.map((cand) => this.probe(cand)));
      for (const r of results) if (r) samples.push(r);
      this.c.event(
        'round',
        `candidates ${((t1 - t0) / 1000).toFixed(1)} ms, ${fresh.length} probes ${((this.c.clock.nowUs() - t1) / 1000).toFixed(1)} ms, ${results.filter((r) => !r).length} failed`,
      );
    }
    if (this.gone) return;
    this.c.event('probed', samples.map((s) => `${s.nodeId}:${s.rttMs.toFixed(1)}`).join(' '));
    const call = this.c.tracker.join({
      peerId: id,
      address: this.c.advertise,
      uplinkBps: this.c.uplinkBps,
      downlinkBps: this.c.downlinkBps ?? 0,
      rtts: samples,
      region: '',
    });
    this.join$ = call;
    call.on('data', (a: Assignment) => {
      this.joinRetryMs = JOIN_RETRY_MIN_MS;
      this.assigned(a);
    });
    // The tracker is not up yet (pods start in any order) or went away: join again, with backoff.
    // A viewer that has a parent keeps streaming from it meanwhile.
    const rejoin = (why: string) => {
      if (this.gone || this.join$ !== call) return;
      this.join$ = undefined;
      this.c.event('join-retry', `${why}; again in ${this.joinRetryMs} ms`);
      this.joinRetry = setTimeout(() => void this.join(), this.joinRetryMs);
      this.joinRetryMs = Math.min(JOIN_RETRY_MAX_MS, this.joinRetryMs * 2);
    };
    call.on('error', (e: grpc.ServiceError) => rejoin(e.details || e.message));
    call.on('end', () => rejoin('the tracker ended the join'));
  }

  /** Graceful: tell the tracker, end the children's streams. Kill: vanish without a word. */
  leave(kind: 'graceful' | 'kill'): void {
    this.gone = true;
    clearTimeout(this.joinRetry);
    clearTimeout(this.reprobeTimer);
    clearInterval(this.reprobeTimer);
    if (kind === 'graceful') {
      this.c.tracker.leave({ peerId: this.viewer.id }, () => undefined);
      this.viewer.leave();
    } else {
      this.viewer.kill();
    }
    this.join$?.cancel();
  }

  report(): void {
    if (this.gone || this.assignments === 0) return;
    this.c.tracker.report(
      {
        peerId: this.viewer.id,
        lastSeq: Math.max(0, this.viewer.node.newest),
        delayMs: this.viewer.node.delayMs,
        lateChunks: this.fallbacks,
        parentLost: false,
        rtts: [],
      },
      () => undefined,
    );
  }

  /** Fetches from the CDN edge each chunk still missing FALLBACK_LEAD_MS before its deadline. */
  checkDeadlines(nowUs: number): void {
    const t = this.viewer.timeline;
    if (this.gone || !t || !this.fallback) return;
    const chunkUs = t.durationUs;
    this.nextDeadlineSeq ??= t.firstSeq + 1;
    for (;;) {
      const k: number = this.nextDeadlineSeq;
      if (this.c.lastSeq !== undefined && k > this.c.lastSeq) break; // the broadcast is over
      const fetchAtUs = t.firstProducedUs + (k - t.firstSeq) * chunkUs + (PLAYOUT_DELAY_MS - FALLBACK_LEAD_MS) * 1000;
      if (fetchAtUs > nowUs) break;
      if (!this.viewer.node.hasDelivered(k) && !this.fetching.has(k)) {
        // Bounded: a viewer whose whole stream is late (an overloaded machine) must not turn
        // into a storm of edge fetches that makes everyone later still.
        if (this.fetching.size >= MAX_FALLBACKS_IN_FLIGHT) break;
        this.fetchFromEdge(k);
      }
      this.nextDeadlineSeq = k + 1;
    }
  }

  private fetchFromEdge(seq: number): void {
    const edge = this.fallback!;
    this.fetching.add(seq);
    this.fallbacks++;
    this.c.event('fallback', `${seq}@${edge.nodeId}`);
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
    const done = () => this.fetching.delete(seq);
    call.on('end', done);
    call.on('error', done);
  }

  /**
   * Probes nodes the tracker now suggests (nearest by its coordinates, with room) and reports
   * the RTTs: viewers that joined together could not probe each other, and the overlay changes.
   */
  private async reprobe(): Promise<void> {
    if (this.gone) return;
    const fresh = (await this.candidates(this.samples)).filter(
      (cand) => !this.samples.some((s) => s.nodeId === cand.nodeId),
    );
    const results = (await Promise.all(fresh.map((cand) => this.probe(cand)))).filter((r): r is RttSample => !!r);
    if (this.gone || results.length === 0) return;
    this.samples.push(...results);
    this.c.tracker.report(
      {
        peerId: this.viewer.id,
        lastSeq: 0,
        delayMs: this.viewer.node.delayMs,
        lateChunks: this.fallbacks,
        parentLost: false,
        rtts: results,
      },
      () => undefined,
    );
  }

  private assigned(a: Assignment): void {
    if (this.gone || !a.parent) return;
    const from = this.viewer.parentLink.current?.id;
    this.assignments++;
    if (this.assignments === 1) {
      this.reprobeTimer = setTimeout(() => {
        void this.reprobe();
        this.reprobeTimer = setInterval(() => void this.reprobe(), REPROBE_INTERVAL_MS);
      }, REPROBE_FIRST_MS);
    }
    if (a.fallback) this.fallback = a.fallback;
    if (this.assignments > 1) {
      this.reparents++;
      this.c.event('reparent', reparentDetail({ from: from ?? '', to: a.parent.nodeId, reason: a.reason }));
    } else {
      this.c.event('assigned', assignedDetail(a.parent.nodeId, a.expectedDelayMs));
    }
    this.viewer.attach({ id: a.parent.nodeId, address: a.parent.address }, a.priority);
  }

  private reportParentLost(): void {
    const now = this.c.clock.nowUs();
    // One report per loss burst: the stream retries every few ms until the tracker reassigns.
    if (this.gone || now - this.lastLostReportUs < 500_000) return;
    this.lastLostReportUs = now;
    this.c.tracker.report(
      { peerId: this.viewer.id, lastSeq: 0, delayMs: 0, lateChunks: 0, parentLost: true, rtts: [] },
      () => undefined,
    );
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
