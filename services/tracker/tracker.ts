// The tracker service: admits peers, hands them candidates to probe, and streams parent
// assignments decided by the overlay planner (services/core/overlay). It sees only what peers
// measure (RTTs, delays) — never the scenario's latencies.
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
import { IMPROVE_ON_REPORT_MAX_MOVES } from './constants.js';

export interface TrackerInit {
  /** roots with their addresses: origin first, then edges */
  roots: Array<{ id: string; role: 'origin' | 'edge'; address: string; slots: number; uplinkBps: number }>;
}

export interface TrackerComponents {
  planner: OverlayPlanner;
  log: Logger;
  /** told about every assignment made (for records and metrics) */
  onDecision?: (d: Decision) => void;
  onSample?: (peerId: string, nodeId: string, rttMs: number) => void;
  /** the stream's clock, as this tracker knows it (Tracker.StreamClock) */
  streamClock?: () => StreamClockResponse;
}

interface PeerEntry {
  address: string;
  call: grpc.ServerWritableStream<JoinRequest, Assignment> | undefined;
  fallback: NodeAddress | undefined;
}

export class Tracker {
  private readonly peers = new Map<string, PeerEntry>();
  private readonly roots: Map<string, NodeAddress>;
  assignments = 0;

  constructor(
    init: TrackerInit,
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
        if (this.c.planner.has(r.peerId)) {
          this.c.planner.report(r.peerId, r.delayMs);
          if (r.rtts.length > 0) {
            this.observe(r.peerId, r.rtts);
            // New measurements may give a CDN-served viewer a peer parent: act on them now
            // rather than at the next periodic round.
            this.improve(IMPROVE_ON_REPORT_MAX_MOVES, false);
          }
          if (r.parentLost) {
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

  private join(call: grpc.ServerWritableStream<JoinRequest, Assignment>): void {
    const r = call.request;
    const { planner } = this.c;
    // Candidates registered it before it declared its uplink.
    planner.register(r.peerId, r.uplinkBps, r.downlinkBps);
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

  private remove(peerId: string, why: 'leave' | 'lost'): void {
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

  private observe(peerId: string, rtts: Array<{ nodeId: string; rttMs: number; delayMs: number }>): void {
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
    });
  }

  private addressOf(id: string): NodeAddress | undefined {
    const root = this.roots.get(id);
    if (root) return root;
    const p = this.peers.get(id);
    return p ? { nodeId: id, address: p.address, role: 'peer' } : undefined;
  }
}
