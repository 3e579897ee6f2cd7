// The tracker service: admits peers, hands them candidates to probe, and streams parent
// assignments decided by the overlay planner (services/core/overlay). It sees only what peers
// measure (RTTs, delays) — never the scenario's latencies.
import { status, type ServerErrorResponse } from '@grpc/grpc-js';
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import {
  TrackerService,
  type Assignment,
  type CandidatesRequest,
  type CandidatesResponse,
  type JoinRequest,
  type LeaveRequest,
  type LeaveResponse,
  type NodeAddress,
  type ReportRequest,
  type ReportResponse,
  type StreamClockRequest,
  type StreamClockResponse,
} from '../gen/livepath/v1/tracker.js';
import type { OverlayPlanner, Decision } from '../core/overlay/planner.js';
import type { ServiceRegistrar } from '../runtime/grpc.js';
import { BAN_DELIVERY_STRIKES, IMPROVE_ON_REPORT_MAX_MOVES, STARVED_BY_PARENT_MS } from './constants.js';

/** What a peer may report a node for (ReportRequest.suspect_reason); anything else is 'other'. */
export const SUSPECT_REASONS = ['signature', 'unsigned', 'replay', 'malformed', 'withhold', 'trickle'] as const;
export type SuspectReason = (typeof SUSPECT_REASONS)[number] | 'other';

/** A capacity a peer declares: a positive finite number, else unknown (0). */
function capacityBps(bps: number): number {
  return Number.isFinite(bps) && bps > 0 ? bps : 0;
}

export interface TrackerInit {
  /** roots with their addresses: origin first, then edges */
  roots: Array<{ id: string; role: 'origin' | 'edge'; address: string; slots: number; uplinkBps: number }>;
  /** the origin's public key (32 bytes), handed to every peer in its assignments */
  originKey?: Buffer;
}

export interface TrackerComponents {
  planner: OverlayPlanner;
  log: Logger;
  /** told about every assignment made (for records and metrics) */
  onDecision?: (d: Decision) => void;
  onSample?: (peerId: string, nodeId: string, rttMs: number) => void;
  /** the stream's clock, as this tracker knows it (Tracker.StreamClock) */
  streamClock?: () => StreamClockResponse;
  /** the clock for report windows (ms); default Date.now */
  nowMs?: () => number;
  /** told when a peer is banned on a child's report */
  onBan?: (peerId: string, reason: SuspectReason, reporter: string) => void;
}

interface PeerEntry {
  address: string;
  call: grpc.ServerWritableStream<JoinRequest, Assignment> | undefined;
  fallback: NodeAddress | undefined;
}

export class Tracker {
  private readonly peers = new Map<string, PeerEntry>();
  private readonly roots: Map<string, NodeAddress>;
  /** peers reported by a child for a bad fragment or for not delivering: never assigned again */
  private readonly banned = new Map<string, SuspectReason>();
  /** delivery reports against each peer so far */
  private readonly strikes = new Map<string, number>();
  /** when each peer last reported its own parent (ms) */
  private readonly reportedAtMs = new Map<string, number>();
  assignments = 0;

  constructor(
    private readonly init: TrackerInit,
    private readonly c: TrackerComponents,
  ) {
    this.roots = new Map(init.roots.map((r) => [r.id, { nodeId: r.id, address: r.address, role: r.role }]));
    for (const r of init.roots) c.planner.addRoot(r.id, r.slots, r.uplinkBps);
  }

  get peerCount(): number {
    return this.peers.size;
  }

  addTo(server: ServiceRegistrar): void {
    server.addService(TrackerService, {
      candidates: (
        call: grpc.ServerUnaryCall<CandidatesRequest, CandidatesResponse>,
        cb: grpc.sendUnaryData<CandidatesResponse>,
      ) => {
        const { peerId, rtts } = call.request;
        const refused = this.refuse(peerId);
        if (refused) return cb(refused);
        this.c.planner.register(peerId, 0);
        if (rtts.length > 0) this.observe(peerId, rtts);
        cb(null, {
          candidates: this.c.planner
            .candidatesFor(peerId)
            .map((id) => this.addressOf(id))
            .filter((a): a is NodeAddress => !!a),
        });
      },
      join: (call: grpc.ServerWritableStream<JoinRequest, Assignment>) => this.join(call),
      streamClock: (
        _call: grpc.ServerUnaryCall<StreamClockRequest, StreamClockResponse>,
        cb: grpc.sendUnaryData<StreamClockResponse>,
      ) => cb(null, this.c.streamClock?.() ?? { known: false, startUs: 0, chunkDurationUs: 0 }),
      report: (call: grpc.ServerUnaryCall<ReportRequest, ReportResponse>, cb: grpc.sendUnaryData<ReportResponse>) => {
        const r = call.request;
        const refused = this.refuse(r.peerId);
        if (refused) return cb(refused);
        // A believed report already re-assigned the reporter with the suspect's other children.
        const banned = r.suspectId !== '' && this.suspect(r.peerId, r.suspectId, r.suspectReason);
        if (this.c.planner.has(r.peerId)) {
          this.c.planner.report(r.peerId, Number.isFinite(r.delayMs) && r.delayMs >= 0 ? r.delayMs : 0);
          if (r.rtts.length > 0) {
            this.observe(r.peerId, r.rtts);
            // New measurements may give a CDN-served viewer a peer parent: act on them now
            // rather than at the next periodic round.
            this.improve(IMPROVE_ON_REPORT_MAX_MOVES, false);
          }
          if (r.parentLost && !banned) {
            const d = this.c.planner.parentLost(r.peerId);
            if (d) this.send(d);
          }
        }
        cb(null, {});
      },
      leave: (call: grpc.ServerUnaryCall<LeaveRequest, LeaveResponse>, cb: grpc.sendUnaryData<LeaveResponse>) => {
        this.remove(call.request.peerId, 'leave');
        cb(null, {});
      },
    });
  }

  /** One round of overlay improvement. */
  improve(maxMoves: number, periodic = true): number {
    const moves = this.c.planner.improve(maxMoves, periodic);
    for (const d of moves) this.send(d);
    return moves.length;
  }

  get bannedCount(): number {
    return this.banned.size;
  }

  /**
   * A peer reports `suspectId` (its parent) for a bad fragment or for not delivering. Only the
   * suspect's own child is believed, so a peer cannot get strangers banned. A bad fragment bans
   * the suspect at once (its children are re-assigned, it is refused from then on). Not
   * delivering is only a strike (the reporter alone moves, as for a lost parent): a parent starved
   * by its own parent looks the same to its child, so a suspect that itself reported its parent
   * lately is not blamed, and BAN_DELIVERY_STRIKES strikes ban.
   */
  private suspect(reporter: string, suspectId: string, reasonText: string): boolean {
    const { planner } = this.c;
    if (this.roots.has(suspectId) || this.banned.has(suspectId) || suspectId === reporter) return false;
    if (planner.parentOf(reporter) !== suspectId) return false;
    const reason: SuspectReason = (SUSPECT_REASONS as readonly string[]).includes(reasonText)
      ? (reasonText as SuspectReason)
      : 'other';
    const nowMs = (this.c.nowMs ?? Date.now)();
    this.reportedAtMs.set(reporter, nowMs);
    if (reason === 'withhold' || reason === 'trickle' || reason === 'other') {
      const own = this.reportedAtMs.get(suspectId);
      if (own !== undefined && nowMs - own < STARVED_BY_PARENT_MS) return false;
      const strikes = (this.strikes.get(suspectId) ?? 0) + 1;
      this.strikes.set(suspectId, strikes);
      if (strikes < BAN_DELIVERY_STRIKES) return false;
    }
    this.banned.set(suspectId, reason);
    this.c.log.warn({ peer: suspectId, reason, reporter }, "peer banned on its child's report");
    this.c.onBan?.(suspectId, reason, reporter);
    const entry = this.peers.get(suspectId);
    const call = entry?.call;
    if (entry) entry.call = undefined; // told by the status below, not ended as a leave
    this.remove(suspectId, 'banned');
    call?.emit('error', this.bannedStatus(suspectId));
    // A suspect that never joined (or already left) is still in the planner's books.
    if (!entry && planner.has(suspectId)) for (const d of planner.leave(suspectId)) this.send(d);
    return true;
  }

  private bannedStatus(peerId: string): ServerErrorResponse {
    const details = `peer "${peerId}" was reported by its child (${this.banned.get(peerId)}) and is no longer admitted`;
    return Object.assign(new Error(details), { code: status.PERMISSION_DENIED, details });
  }

  private join(call: grpc.ServerWritableStream<JoinRequest, Assignment>): void {
    const r = call.request;
    const { planner } = this.c;
    const refused = this.refuse(r.peerId);
    if (refused) {
      call.emit('error', refused);
      return;
    }
    // Candidates registered it before it declared its uplink.
    planner.register(r.peerId, capacityBps(r.uplinkBps), capacityBps(r.downlinkBps));
    this.observe(r.peerId, r.rtts);
    const edges = r.rtts.filter((s) => this.roots.get(s.nodeId)?.role === 'edge').sort((a, b) => a.rttMs - b.rttMs);
    const fallback = this.roots.get(
      edges[0]?.nodeId ?? [...this.roots.values()].find((x) => x.role === 'edge')?.nodeId ?? '',
    );
    this.peers.set(r.peerId, { address: r.address, call, fallback });
    let gone = false;
    const onGone = () => {
      if (gone) return;
      gone = true;
      if (this.peers.get(r.peerId)?.call === call) this.remove(r.peerId, 'lost');
    };
    call.on('cancelled', onGone);
    call.on('close', onGone);
    call.on('error', onGone);
    this.send(planner.join(r.peerId));
  }

  private remove(peerId: string, why: 'leave' | 'lost' | 'banned'): void {
    const entry = this.peers.get(peerId);
    if (!entry) return;
    this.peers.delete(peerId);
    this.c.log.info({ peer: peerId, why }, 'peer left');
    for (const d of this.c.planner.leave(peerId)) this.send(d);
    try {
      entry.call?.end();
    } catch {
      // already closed by the peer
    }
  }

  /**
   * Why a peer's request is refused, as the status it gets: a banned peer, or an id that is not a
   * peer's (empty, or a CDN node's: a peer posing as the origin looped the planner once).
   */
  private refuse(peerId: string): ServerErrorResponse | undefined {
    if (this.banned.has(peerId)) return this.bannedStatus(peerId);
    const invalid = (details: string) => Object.assign(new Error(details), { code: status.INVALID_ARGUMENT, details });
    if (peerId === '') return invalid('peer_id is empty: a peer sends its own node id');
    if (this.roots.has(peerId)) return invalid(`peer_id "${peerId}" is a CDN node's id: a peer sends its own node id`);
    return undefined;
  }

  private observe(peerId: string, samples: Array<{ nodeId: string; rttMs: number; delayMs: number }>): void {
    // What a peer measured, as far as it can be true: finite, not negative, not to itself.
    const rtts = samples
      .filter((x) => x.nodeId !== '' && x.nodeId !== peerId && Number.isFinite(x.rttMs) && x.rttMs >= 0)
      .map((x) => ({ ...x, delayMs: Number.isFinite(x.delayMs) && x.delayMs >= 0 ? x.delayMs : 0 }));
    this.c.planner.observe(peerId, rtts);
    for (const s of rtts) this.c.onSample?.(peerId, s.nodeId, s.rttMs);
  }

  private send(d: Decision): void {
    const entry = this.peers.get(d.peerId);
    const parent = this.addressOf(d.parentId);
    if (!entry?.call || !parent) return;
    this.assignments++;
    this.c.onDecision?.(d);
    entry.call.write({
      parent,
      expectedDelayMs: d.expectedDelayMs,
      reason: d.reason,
      fallback: entry.fallback,
      priority: d.priority,
      originKey: this.init.originKey ?? Buffer.alloc(0),
    });
  }

  private addressOf(id: string): NodeAddress | undefined {
    const root = this.roots.get(id);
    if (root) return root;
    const p = this.peers.get(id);
    return p ? { nodeId: id, address: p.address, role: 'peer' } : undefined;
  }
}
