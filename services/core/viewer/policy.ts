// A viewer's policy on the peer path (sans-IO): fast start from its CDN edge, the probe rounds
// before it joins, following the tracker's assignments, re-probing, the join retry backoff, the
// playout deadline with its CDN fallback, and its reports. The caller feeds it what happened
// (`handle(nowUs, input)`) and carries out the actions it returns; it arms one timer at
// `nextTimeoutUs()` and feeds `{ kind: 'timeout' }` then. The peer service (services/peer/p2p.ts)
// drives it with gRPC and real time; the simulator (services/sim) with its event queue.
//
// Targets are opaque to the policy beyond their node id (an address for the service, an index
// for the simulator). Cost: O(1) per input except the deadline scan, O(chunks it passes over).
import {
  FALLBACK_LEAD_MS,
  JOIN_PROBE_ROUNDS,
  JOIN_RETRY_MAX_MS,
  JOIN_RETRY_MIN_MS,
  MAX_FALLBACKS_IN_FLIGHT,
  PARENT_LOST_REPORT_GAP_MS,
  PLAYOUT_DELAY_MS,
  REPORT_INTERVAL_MS,
  REPROBE_FIRST_MS,
  REPROBE_INTERVAL_MS,
} from './constants.js';

export interface Target {
  nodeId: string;
}

export interface RttSample {
  nodeId: string;
  rttMs: number;
  /** the probed node's own measured delay (ms), 0 if unknown */
  delayMs: number;
}

export interface ViewerPolicyInit<T extends Target> {
  viewerId: string;
  /**
   * Fast start: the viewer's CDN edge (as the CDN path would pick it), streamed from the moment it
   * joins until the tracker's first assignment, so it plays while it probes. Absent: it waits.
   */
  cdnEdge?: T;
  /** last seq of the broadcast when known (a synthetic source of known length) */
  lastSeq?: number;
  /** how often to report the delay to the tracker (ms); 0: never. Default REPORT_INTERVAL_MS. */
  reportIntervalMs?: number;
}

/** What happened to the viewer, as its shell saw it. */
export type ViewerInput<T extends Target> =
  /** the viewer is present: fast start, then probe and join (again, after a join-retry timeout) */
  | { kind: 'start' }
  /** the tracker's answer to a `candidates` action (empty when it failed) */
  | { kind: 'candidates'; requestId: number; targets: T[] }
  /** the answer to a `probe` action: one sample per target, undefined where the probe failed */
  | { kind: 'probed'; requestId: number; samples: Array<RttSample | undefined> }
  /** the tracker assigned a parent (on the join stream) */
  | { kind: 'assignment'; parent: T; fallback?: T; reason: string; expectedDelayMs: number; priority: number }
  /** the join stream failed or ended: join again after a backoff */
  | { kind: 'join-ended'; why: string }
  /** the viewer completed chunk `seq` (whichever parent or fetch it came from) */
  | { kind: 'chunk'; seq: number; producedAtUs: number; durationUs: number }
  /** the stream from the current parent failed */
  | { kind: 'parent-lost' }
  /** an edge fetch of chunk `seq` ended (done or failed) */
  | { kind: 'fetched'; seq: number }
  | { kind: 'leave'; how: 'graceful' | 'kill' }
  /** the timer armed at nextTimeoutUs() fired */
  | { kind: 'timeout' };

export type ReportKind = 'periodic' | 'rtts' | 'parent-lost';

/** What the shell must do. */
export type ViewerAction<T extends Target> =
  /** stream from `parent` from the next chunk not held whole (fastStart: from the live edge, as a CDN viewer) */
  | { type: 'attach'; parent: T; priority?: number; fastStart: boolean }
  /** ask the tracker for candidates, reporting the samples so far; answer with a `candidates` input */
  | { type: 'candidates'; requestId: number; samples: RttSample[] }
  /** measure the RTT to each target; answer with a `probed` input */
  | { type: 'probe'; requestId: number; targets: T[] }
  /** open the join stream to the tracker with these samples */
  | { type: 'join'; samples: RttSample[] }
  /**
   * report to the tracker: periodic (the viewer's newest seq and delay), new RTTs (with its delay),
   * or a lost parent; lateChunks = CDN fallbacks so far
   */
  | { type: 'report'; kind: ReportKind; rtts: RttSample[]; lateChunks: number }
  /** fetch chunk `seq` alone from the CDN edge; answer with a `fetched` input when it ends */
  | { type: 'fetch'; seq: number; edge: T }
  /** graceful: tell the tracker, end the children's streams; kill: vanish without a word */
  | { type: 'leave'; how: 'graceful' | 'kill' }
  | { type: 'event'; kind: 'fast-start' | 'round' | 'probed' | 'join-retry' | 'fallback'; detail: string }
  | { type: 'assigned'; parentId: string; expectedDelayMs: number }
  | { type: 'reparented'; from: string; to: string; reason: string };

/** When chunk `seq` must be fetched from the edge if still missing, on the stream's clock as the viewer learnt it. */
export function fallbackAtUs(timeline: Timeline, seq: number): number {
  return (
    timeline.firstProducedUs +
    (seq - timeline.firstSeq) * timeline.durationUs +
    (PLAYOUT_DELAY_MS - FALLBACK_LEAD_MS) * 1000
  );
}

/** A chunk completed after its playout deadline stalls the viewer. */
export function isStall(delayMs: number): boolean {
  return delayMs > PLAYOUT_DELAY_MS;
}

/** The stream's clock as a viewer learnt it from its first chunk: chunk k is produced at firstProducedUs + (k − firstSeq) × durationUs. */
export interface Timeline {
  firstSeq: number;
  firstProducedUs: number;
  durationUs: number;
}

interface JoinRound {
  round: number;
  requestId: number;
  askedAtUs: number;
  answeredAtUs: number;
  probes: number;
}

export class ViewerPolicy<T extends Target> {
  private gone = false;
  private parent: T | undefined;
  private fallback: T | undefined;
  private assignments = 0;
  private readonly samples: RttSample[] = [];
  private requestSeq = 0;
  private joinRound: JoinRound | undefined;
  private readonly reprobes = new Set<number>();
  private joinRetryMs = JOIN_RETRY_MIN_MS;
  private joinRetryAtUs: number | undefined;
  private reprobeAtUs: number | undefined;
  private reportAtUs: number | undefined;
  private lastLostReportUs = -Infinity;
  private timelineKnown: Timeline | undefined;
  /** the next seq the deadline check looks at */
  private nextDeadlineSeq: number | undefined;
  /** chunks completed at or after nextDeadlineSeq (older ones are forgotten) */
  private readonly delivered = new Set<number>();
  private readonly fetching = new Set<number>();
  reparents = 0;
  fallbacks = 0;

  constructor(readonly init: ViewerPolicyInit<T>) {}

  /** The parent the viewer streams from now (the fast-start edge before the first assignment). */
  get currentParent(): T | undefined {
    return this.parent;
  }

  get timeline(): Timeline | undefined {
    return this.timelineKnown;
  }

  get assigned(): boolean {
    return this.assignments > 0;
  }

  handle(nowUs: number, input: ViewerInput<T>): ViewerAction<T>[] {
    const out: ViewerAction<T>[] = [];
    switch (input.kind) {
      case 'start':
        this.start(nowUs, out);
        break;
      case 'candidates':
        this.candidates(nowUs, input.requestId, input.targets, out);
        break;
      case 'probed':
        this.probed(nowUs, input.requestId, input.samples, out);
        break;
      case 'assignment':
        this.joinRetryMs = JOIN_RETRY_MIN_MS;
        this.assignment(nowUs, input, out);
        break;
      case 'join-ended':
        if (this.gone) break;
        out.push({ type: 'event', kind: 'join-retry', detail: `${input.why}; again in ${this.joinRetryMs} ms` });
        this.joinRetryAtUs = nowUs + this.joinRetryMs * 1000;
        this.joinRetryMs = Math.min(JOIN_RETRY_MAX_MS, this.joinRetryMs * 2);
        break;
      case 'chunk':
        this.chunk(input.seq, input.producedAtUs, input.durationUs);
        break;
      case 'parent-lost':
        if (this.gone || nowUs - this.lastLostReportUs < PARENT_LOST_REPORT_GAP_MS * 1000) break;
        this.lastLostReportUs = nowUs;
        out.push({ type: 'report', kind: 'parent-lost', rtts: [], lateChunks: 0 });
        break;
      case 'fetched':
        this.fetching.delete(input.seq);
        this.deadlines(nowUs, out);
        break;
      case 'leave':
        if (this.gone) break;
        this.gone = true;
        this.joinRetryAtUs = this.reprobeAtUs = this.reportAtUs = undefined;
        out.push({ type: 'leave', how: input.how });
        break;
      case 'timeout':
        this.timeout(nowUs, out);
        break;
    }
    return out;
  }

  /** When the caller must feed `{ kind: 'timeout' }` next (undefined: no timer). */
  nextTimeoutUs(): number | undefined {
    if (this.gone) return undefined;
    let next = Infinity;
    if (this.joinRetryAtUs !== undefined) next = Math.min(next, this.joinRetryAtUs);
    if (this.reprobeAtUs !== undefined) next = Math.min(next, this.reprobeAtUs);
    if (this.reportAtUs !== undefined) next = Math.min(next, this.reportAtUs);
    const deadline = this.nextDeadlineUs();
    if (deadline !== undefined) next = Math.min(next, deadline);
    return Number.isFinite(next) ? next : undefined;
  }

  // ---- joining ---------------------------------------------------------------------------------

  private start(nowUs: number, out: ViewerAction<T>[]): void {
    if (this.gone) return;
    const edge = this.init.cdnEdge;
    if (edge && this.assignments === 0 && !this.parent) {
      this.parent = edge;
      out.push({ type: 'event', kind: 'fast-start', detail: edge.nodeId });
      out.push({ type: 'attach', parent: edge, fastStart: true });
    }
    this.askRound(nowUs, 0, out);
  }

  private askRound(nowUs: number, round: number, out: ViewerAction<T>[]): void {
    const requestId = ++this.requestSeq;
    this.joinRound = { round, requestId, askedAtUs: nowUs, answeredAtUs: nowUs, probes: 0 };
    out.push({ type: 'candidates', requestId, samples: [...this.samples] });
  }

  private fresh(targets: T[]): T[] {
    return targets.filter((t) => !this.samples.some((s) => s.nodeId === t.nodeId));
  }

  private candidates(nowUs: number, requestId: number, targets: T[], out: ViewerAction<T>[]): void {
    if (this.gone) return;
    const r = this.joinRound;
    if (r?.requestId === requestId) {
      r.answeredAtUs = nowUs;
      const fresh = this.fresh(targets);
      r.probes = fresh.length;
      if (fresh.length === 0) this.probed(nowUs, requestId, [], out);
      else out.push({ type: 'probe', requestId, targets: fresh });
    } else if (this.reprobes.has(requestId)) {
      const fresh = this.fresh(targets);
      if (fresh.length === 0) this.reprobes.delete(requestId);
      else out.push({ type: 'probe', requestId, targets: fresh });
    }
  }

  private probed(nowUs: number, requestId: number, results: Array<RttSample | undefined>, out: ViewerAction<T>[]) {
    const r = this.joinRound;
    if (r?.requestId === requestId) {
      for (const s of results) if (s) this.samples.push(s);
      if (this.gone) return;
      const failed = results.filter((s) => !s).length;
      const ms = (us: number) => (us / 1000).toFixed(1);
      out.push({
        type: 'event',
        kind: 'round',
        detail: `candidates ${ms(r.answeredAtUs - r.askedAtUs)} ms, ${r.probes} probes ${ms(nowUs - r.answeredAtUs)} ms, ${failed} failed`,
      });
      if (r.round + 1 < JOIN_PROBE_ROUNDS) {
        this.askRound(nowUs, r.round + 1, out);
        return;
      }
      this.joinRound = undefined;
      out.push({
        type: 'event',
        kind: 'probed',
        detail: this.samples.map((s) => `${s.nodeId}:${s.rttMs.toFixed(1)}`).join(' '),
      });
      out.push({ type: 'join', samples: [...this.samples] });
    } else if (this.reprobes.delete(requestId)) {
      const fresh = results.filter((s): s is RttSample => !!s);
      if (this.gone || fresh.length === 0) return;
      this.samples.push(...fresh);
      out.push({ type: 'report', kind: 'rtts', rtts: fresh, lateChunks: this.fallbacks });
    }
  }

  private assignment(nowUs: number, a: Extract<ViewerInput<T>, { kind: 'assignment' }>, out: ViewerAction<T>[]) {
    if (this.gone) return;
    const from = this.parent?.nodeId;
    this.assignments++;
    if (this.assignments === 1) {
      this.reprobeAtUs = nowUs + REPROBE_FIRST_MS * 1000;
      const every = this.init.reportIntervalMs ?? REPORT_INTERVAL_MS;
      if (every > 0) this.reportAtUs = nowUs + every * 1000;
    }
    if (a.fallback) this.fallback = a.fallback;
    if (this.assignments > 1) {
      this.reparents++;
      out.push({ type: 'reparented', from: from ?? '', to: a.parent.nodeId, reason: a.reason });
    } else {
      out.push({ type: 'assigned', parentId: a.parent.nodeId, expectedDelayMs: a.expectedDelayMs });
    }
    this.parent = a.parent;
    out.push({ type: 'attach', parent: a.parent, priority: a.priority, fastStart: false });
    // A fallback edge learnt now may make chunks due already.
    this.deadlines(nowUs, out);
  }

  private timeout(nowUs: number, out: ViewerAction<T>[]): void {
    if (this.gone) return;
    if (this.joinRetryAtUs !== undefined && this.joinRetryAtUs <= nowUs) {
      this.joinRetryAtUs = undefined;
      this.start(nowUs, out);
    }
    if (this.reprobeAtUs !== undefined && this.reprobeAtUs <= nowUs) {
      while (this.reprobeAtUs <= nowUs) this.reprobeAtUs += REPROBE_INTERVAL_MS * 1000;
      const requestId = ++this.requestSeq;
      this.reprobes.add(requestId);
      out.push({ type: 'candidates', requestId, samples: [...this.samples] });
    }
    if (this.reportAtUs !== undefined && this.reportAtUs <= nowUs) {
      const every = (this.init.reportIntervalMs ?? REPORT_INTERVAL_MS) * 1000;
      while (this.reportAtUs <= nowUs) this.reportAtUs += every;
      out.push({ type: 'report', kind: 'periodic', rtts: [], lateChunks: this.fallbacks });
    }
    this.deadlines(nowUs, out);
  }

  // ---- playout deadline ----------------------------------------------------------------------

  private chunk(seq: number, producedAtUs: number, durationUs: number): void {
    if (this.timelineKnown === undefined)
      this.timelineKnown = { firstSeq: seq, firstProducedUs: producedAtUs, durationUs };
    if (this.nextDeadlineSeq === undefined || seq >= this.nextDeadlineSeq) this.delivered.add(seq);
  }

  /**
   * Fetches from the CDN edge each chunk still missing FALLBACK_LEAD_MS before its deadline.
   * Bounded: a viewer whose whole stream is late (an overloaded machine) must not turn into a
   * storm of edge fetches that makes everyone later still.
   */
  private deadlines(nowUs: number, out: ViewerAction<T>[]): void {
    const t = this.timelineKnown;
    const edge = this.fallback;
    if (this.gone || !t || !edge) return;
    this.nextDeadlineSeq ??= t.firstSeq + 1;
    for (;;) {
      const k: number = this.nextDeadlineSeq;
      if (this.init.lastSeq !== undefined && k > this.init.lastSeq) break; // the broadcast is over
      if (fallbackAtUs(t, k) > nowUs) break;
      if (!this.delivered.has(k) && !this.fetching.has(k)) {
        if (this.fetching.size >= MAX_FALLBACKS_IN_FLIGHT) break;
        this.fetching.add(k);
        this.fallbacks++;
        out.push({ type: 'event', kind: 'fallback', detail: `${k}@${edge.nodeId}` });
        out.push({ type: 'fetch', seq: k, edge });
      }
      this.delivered.delete(k);
      this.nextDeadlineSeq = k + 1;
    }
    for (const s of this.delivered) if (s < this.nextDeadlineSeq) this.delivered.delete(s);
  }

  /** When the deadline check has something to do: the first chunk it would fetch, if not blocked. */
  private nextDeadlineUs(): number | undefined {
    const t = this.timelineKnown;
    if (!t || !this.fallback || this.fetching.size >= MAX_FALLBACKS_IN_FLIGHT) return undefined;
    let k = this.nextDeadlineSeq ?? t.firstSeq + 1;
    while (this.delivered.has(k) || this.fetching.has(k)) k++;
    if (this.init.lastSeq !== undefined && k > this.init.lastSeq) return undefined;
    return fallbackAtUs(t, k);
  }
}
