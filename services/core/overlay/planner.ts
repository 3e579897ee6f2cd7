// The overlay planner (sans-IO): a push tree rooted at the origin and the edges that keeps each
// viewer's expected chunk delay low under every node's upload capacity.
//
// Expected delay of viewer v under parent p at child position i:
//     E(v | p) = delay(p) + oneWay(p, v) + i · chunkTime(p) + fragmentTime(p)
// where delay(p) is what p measured and reported (else the planner's own estimate), oneWay is half
// a measured RTT (else a Vivaldi estimate), and chunkTime(p) = chunk bytes / p's uplink, because p
// serves a chunk to its children one after another (see SequentialUplink).
//
// Algorithm (greedy minimum-arrival-time attach + local improvement, after OMNI):
// - join: the peer probes candidates the planner picks (roots, a sample, then the nearest by
//   coordinates with room); it is attached to the candidate with the least E among those with a
//   free slot. O(K) for K probed candidates.
// - leave / parent lost: each orphan keeps its subtree and re-attaches the same way (largest
//   subtree first), never below itself. O(K · depth) per orphan.
// - improve (periodic): a peer moves to a probed candidate with room when E drops by more than
//   max(hysteresisMs, hysteresisRatio · E) — the hysteresis keeps the tree from flapping on noise.
//   O(N · K · depth) per round, bounded by maxMoves.
// Capacity: children × bitrate × headroom ≤ uplink, and ≤ maxFanout; roots have slot budgets
// (their uplink is large, but every viewer a root serves directly is bytes the CDN pays for).
// When no slot is free anywhere, the viewer goes to the best root over its budget (CDN path).
import type { Prng } from '../prng.js';
import { newCoordinate, predictRttMs, updateCoordinate, type Coordinate } from './vivaldi.js';

export type Reason = 'join' | 'parent-lost' | 'improve';

export interface PlannerConfig {
  chunkBytes: number;
  bitrateBps: number;
  fragmentBytes: number;
  /** children × bitrate × headroom ≤ uplink */
  headroom: number;
  /** no peer gets more children than this, whatever its uplink */
  maxFanout: number;
  hysteresisMs: number;
  hysteresisRatio: number;
  /** improvement rounds a viewer stays put after a move (each move disturbs its whole subtree) */
  cooldownRounds: number;
  /** candidates probed per round of a join */
  candidatesPerRound: number;
}

export interface Decision {
  peerId: string;
  parentId: string;
  reason: Reason;
  expectedDelayMs: number;
  /** subtree size: the parent serves larger subtrees first */
  priority: number;
  /** true when the parent is a root serving beyond its budget (no slot anywhere) */
  overBudget: boolean;
}

export interface ProbeSample {
  nodeId: string;
  rttMs: number;
  /** the probed node's own measured delay (ms), 0 if unknown */
  delayMs: number;
}

interface PNode {
  id: string;
  root: boolean;
  maxChildren: number;
  uplinkBps: number;
  parent: string | undefined;
  children: string[];
  reportedDelayMs: number | undefined;
  rtt: Map<string, number>;
  coord: Coordinate;
  /** served by a root beyond its budget because no slot was free */
  overBudget: boolean;
  /** improvement round of the last change of parent (moves cool down for a few rounds) */
  movedAtRound: number;
}

export class PlannerError extends Error {}

export class OverlayPlanner {
  private readonly nodes = new Map<string, PNode>();
  private readonly rootIds: string[] = [];
  private round = 0;

  constructor(
    readonly config: PlannerConfig,
    private readonly prng: Prng,
  ) {}

  /** A root (origin or edge) that may serve `slots` viewers directly. */
  addRoot(id: string, slots: number, uplinkBps: number, delayMs = 0): void {
    this.nodes.set(id, {
      id,
      root: true,
      maxChildren: slots,
      uplinkBps,
      parent: undefined,
      children: [],
      reportedDelayMs: delayMs,
      rtt: new Map(),
      coord: newCoordinate(),
      overBudget: false,
      movedAtRound: -Infinity,
    });
    this.rootIds.push(id);
  }

  has(id: string): boolean {
    return this.nodes.has(id);
  }

  get peerCount(): number {
    return this.nodes.size - this.rootIds.length;
  }

  parentOf(id: string): string | undefined {
    return this.nodes.get(id)?.parent;
  }

  childrenOf(id: string): readonly string[] {
    return this.nodes.get(id)?.children ?? [];
  }

  peers(): string[] {
    return [...this.nodes.values()].filter((n) => !n.root).map((n) => n.id);
  }

  /**
   * Registers a viewer before it is attached (so its probes can be recorded), or updates the
   * upload capacity it declared.
   */
  register(peerId: string, uplinkBps: number): void {
    const slots = Math.max(
      0,
      Math.min(this.config.maxFanout, Math.floor(uplinkBps / (this.config.bitrateBps * this.config.headroom))),
    );
    const known = this.nodes.get(peerId);
    if (known) {
      if (!known.root && uplinkBps > 0) {
        known.uplinkBps = uplinkBps;
        known.maxChildren = slots;
      }
      return;
    }
    this.nodes.set(peerId, {
      id: peerId,
      root: false,
      maxChildren: slots,
      uplinkBps: Math.max(uplinkBps, 1),
      parent: undefined,
      children: [],
      reportedDelayMs: undefined,
      rtt: new Map(),
      coord: newCoordinate(),
      overBudget: false,
      movedAtRound: -Infinity,
    });
  }

  /** Records what a peer measured: RTTs (moving both coordinates) and the probed nodes' delays. */
  observe(peerId: string, samples: ProbeSample[]): void {
    const self = this.nodes.get(peerId);
    if (!self) throw new PlannerError(`unknown peer ${peerId}`);
    // A fresh peer has no position yet: settle it against its samples a few times.
    const rounds = self.rtt.size === 0 ? 8 : 1;
    for (let r = 0; r < rounds; r++) {
      for (const s of samples) {
        const other = this.nodes.get(s.nodeId);
        if (!other || !(s.rttMs > 0)) continue;
        updateCoordinate(self.coord, other.coord, s.rttMs, this.prng.next());
        if (r === 0) updateCoordinate(other.coord, self.coord, s.rttMs, this.prng.next());
      }
    }
    for (const s of samples) {
      const other = this.nodes.get(s.nodeId);
      if (!other || !(s.rttMs > 0)) continue;
      self.rtt.set(s.nodeId, s.rttMs);
      other.rtt.set(peerId, s.rttMs);
      if (s.delayMs > 0) other.reportedDelayMs = s.delayMs;
    }
  }

  /** A peer's own measured delay (ms). */
  report(peerId: string, delayMs: number): void {
    const n = this.nodes.get(peerId);
    if (n && delayMs > 0) n.reportedDelayMs = delayMs;
  }

  /**
   * Nodes a joining peer should probe: first round (no samples yet) the roots and a random
   * sample of peers with room; later rounds the nearest peers with room by coordinates.
   */
  candidatesFor(peerId: string): string[] {
    const self = this.nodes.get(peerId);
    const probed = self?.rtt ?? new Map<string, number>();
    const withRoom = this.peersWithRoom().filter((id) => id !== peerId && !probed.has(id));
    const k = this.config.candidatesPerRound;
    if (!self || probed.size === 0) {
      return [...this.rootIds, ...this.prng.shuffle(withRoom).slice(0, k)];
    }
    return withRoom
      .map((id) => [id, predictRttMs(self.coord, this.nodes.get(id)!.coord)] as const)
      .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, k)
      .map(([id]) => id);
  }

  /** Attaches a registered peer; returns where it goes. */
  join(peerId: string): Decision {
    const v = this.nodes.get(peerId);
    if (!v) throw new PlannerError(`join before register: ${peerId}`);
    if (v.parent) this.detach(v);
    return this.attach(v, 'join');
  }

  /** Removes a peer (graceful leave or detected death); its orphans are re-attached. */
  leave(peerId: string): Decision[] {
    const v = this.nodes.get(peerId);
    if (!v || v.root) return [];
    this.detach(v);
    this.nodes.delete(peerId);
    for (const n of this.nodes.values()) n.rtt.delete(peerId);
    const orphans = v.children.map((id) => this.nodes.get(id)!).filter(Boolean);
    for (const o of orphans) o.parent = undefined;
    orphans.sort((a, b) => this.subtreeSize(b) - this.subtreeSize(a) || (a.id < b.id ? -1 : 1));
    return orphans.map((o) => this.attach(o, 'parent-lost'));
  }

  /** A peer says its parent stopped serving it: re-attach it elsewhere. */
  parentLost(peerId: string): Decision | undefined {
    const v = this.nodes.get(peerId);
    if (!v || v.root) return undefined;
    const old = v.parent;
    this.detach(v);
    if (old) v.rtt.delete(old); // do not pick the same parent right back
    return this.attach(v, 'parent-lost');
  }

  /**
   * One round of local improvement; returns the moves made. Viewers the CDN serves over its
   * budget move first, to any peer with room (offload beats a few ms); the others only when a
   * probed candidate is clearly better (hysteresis).
   */
  improve(maxMoves: number, periodic = true): Decision[] {
    // Cooldowns count periodic rounds only, not the extra ones new measurements trigger.
    if (periodic) this.round++;
    const moves: Decision[] = [];
    const ids = [...this.nodes.keys()].sort();
    for (const id of ids) {
      if (moves.length >= maxMoves) break;
      const v = this.nodes.get(id)!;
      if (!v.overBudget || !v.parent) continue;
      const best = this.bestParent(v, undefined, true);
      if (best) {
        this.detach(v);
        moves.push(this.place(v, best.node, best.expected, 'improve', false));
      }
    }
    // Rounds triggered by fresh measurements only rescue CDN-served viewers; exchanges and
    // improvements wait for the periodic round and its cooldowns (they made the tree flap).
    if (!periodic) return moves;
    for (const rootId of this.rootIds) {
      if (moves.length + 2 > maxMoves) break;
      moves.push(...this.exchangeAtRoot(this.nodes.get(rootId)!));
    }
    for (const id of ids) {
      if (moves.length >= maxMoves) break;
      const v = this.nodes.get(id)!;
      if (v.root || !v.parent || v.overBudget || this.coolingDown(v)) continue;
      const parent = this.nodes.get(v.parent)!;
      const current = this.expectedVia(parent, v, parent.children.indexOf(v.id));
      const best = this.bestParent(v, v.parent);
      if (!best || best.node.id === v.parent) continue;
      if (current - best.expected > Math.max(this.config.hysteresisMs, this.config.hysteresisRatio * current)) {
        this.detach(v);
        moves.push(this.place(v, best.node, best.expected, 'improve', false));
      }
    }
    return moves;
  }

  /**
   * A root's slots are the most valuable: whoever joined first took them. When a viewer X would
   * gain much more from a full root's slot than some child Y of it loses by moving to its best
   * other parent, they exchange (an OMNI-style local transformation).
   */
  private exchangeAtRoot(root: PNode): Decision[] {
    if (root.children.length < root.maxChildren || root.children.length === 0) return [];
    const position = root.children.length - 1;
    let bestX: { node: PNode; gain: number } | undefined;
    for (const v of this.nodes.values()) {
      if (v.root || !v.parent || v.parent === root.id || this.coolingDown(v)) continue;
      const p = this.nodes.get(v.parent)!;
      const gain = this.expectedVia(p, v, p.children.indexOf(v.id)) - this.expectedVia(root, v, position);
      if (!bestX || gain > bestX.gain) bestX = { node: v, gain };
    }
    if (!bestX || bestX.gain <= this.config.hysteresisMs) return [];
    const x = bestX.node;
    let bestY: { node: PNode; regret: number; to: PNode; expected: number } | undefined;
    for (const yId of root.children) {
      const y = this.nodes.get(yId)!;
      if (y.root || this.coolingDown(y) || this.isInSubtree(x, y)) continue;
      const alt = this.bestParent(y, undefined, true, new Set([root.id]));
      if (!alt || this.isInSubtree(alt.node, x)) continue;
      const regret = alt.expected - this.expectedVia(root, y, root.children.indexOf(y.id));
      if (!bestY || regret < bestY.regret) bestY = { node: y, regret, to: alt.node, expected: alt.expected };
    }
    if (
      !bestY ||
      bestX.gain - bestY.regret <= Math.max(this.config.hysteresisMs, this.config.hysteresisRatio * bestX.gain)
    )
      return [];
    this.detach(bestY.node);
    const moved = this.place(bestY.node, bestY.to, bestY.expected, 'improve', false);
    this.detach(x);
    return [moved, this.place(x, root, this.expectedVia(root, x, root.children.length), 'improve', false)];
  }

  private coolingDown(v: PNode): boolean {
    return this.round - v.movedAtRound <= this.config.cooldownRounds;
  }

  /** Planner's estimate of a node's delay (ms): reported when known, else derived from its parent. */
  delayOf(id: string, depth = 0): number {
    const n = this.nodes.get(id);
    if (!n) return Infinity;
    if (n.reportedDelayMs !== undefined) return n.reportedDelayMs;
    if (!n.parent || depth > 64) return n.root ? 0 : Infinity;
    const p = this.nodes.get(n.parent)!;
    return this.expectedVia(p, n, p.children.indexOf(n.id), depth + 1);
  }

  /** Checks the invariants: every attached peer reachable from a root, capacities respected. */
  checkInvariants(): string[] {
    const problems: string[] = [];
    for (const n of this.nodes.values()) {
      if (!n.root && n.children.length > n.maxChildren)
        problems.push(`${n.id} has ${n.children.length} children > ${n.maxChildren}`);
      for (const c of n.children)
        if (this.nodes.get(c)?.parent !== n.id)
          problems.push(`${c} listed under ${n.id} but its parent is ${this.nodes.get(c)?.parent}`);
      if (!n.root && n.parent) {
        const seen = new Set<string>();
        let cur: PNode | undefined = n;
        while (cur && !cur.root) {
          if (seen.has(cur.id)) {
            problems.push(`cycle through ${n.id}`);
            break;
          }
          seen.add(cur.id);
          cur = cur.parent ? this.nodes.get(cur.parent) : undefined;
        }
        if (!cur) problems.push(`${n.id} is not connected to a root`);
      }
    }
    return problems;
  }

  private peersWithRoom(): string[] {
    const out: string[] = [];
    for (const n of this.nodes.values()) if (!n.root && n.parent && n.children.length < n.maxChildren) out.push(n.id);
    return out;
  }

  private attach(v: PNode, reason: Reason): Decision {
    const best = this.bestParent(v, undefined);
    if (best) return this.place(v, best.node, best.expected, reason, false);
    // No slot anywhere: the CDN serves it (the best root, over its budget).
    const root = this.rootIds
      .map((id) => this.nodes.get(id)!)
      .map((r) => ({ node: r, expected: this.expectedVia(r, v, r.children.length) }))
      .sort((a, b) => a.expected - b.expected)[0];
    if (!root) throw new PlannerError('the overlay has no root: add the origin before peers join');
    return this.place(v, root.node, root.expected, reason, true);
  }

  private place(v: PNode, p: PNode, expected: number, reason: Reason, overBudget: boolean): Decision {
    v.parent = p.id;
    v.overBudget = overBudget;
    v.movedAtRound = this.round;
    p.children.push(v.id);
    return {
      peerId: v.id,
      parentId: p.id,
      reason,
      expectedDelayMs: expected,
      priority: this.subtreeSize(v),
      overBudget,
    };
  }

  private detach(v: PNode): void {
    if (!v.parent) return;
    const p = this.nodes.get(v.parent);
    if (p) p.children = p.children.filter((c) => c !== v.id);
    v.parent = undefined;
  }

  /** Best parent with a free slot among the roots and the peers v probed, never in v's subtree. */
  private bestParent(
    v: PNode,
    current: string | undefined,
    peersOnly = false,
    exclude?: Set<string>,
  ): { node: PNode; expected: number } | undefined {
    let best: { node: PNode; expected: number } | undefined;
    const consider = (p: PNode) => {
      if (p.id === v.id || exclude?.has(p.id)) return;
      const position = p.id === current ? p.children.indexOf(v.id) : p.children.length;
      if (p.id !== current && p.children.length >= p.maxChildren) return;
      if (!p.root && !p.parent) return; // not attached itself
      if (!p.root && this.isInSubtree(p, v)) return;
      const e = this.expectedVia(p, v, position);
      if (!best || e < best.expected || (e === best.expected && p.id < best.node.id)) best = { node: p, expected: e };
    };
    if (!peersOnly) for (const id of this.rootIds) consider(this.nodes.get(id)!);
    for (const id of v.rtt.keys()) {
      const p = this.nodes.get(id);
      if (p && !p.root) consider(p);
    }
    return best;
  }

  private expectedVia(p: PNode, v: PNode, position: number, depth = 0): number {
    const rtt = p.rtt.get(v.id) ?? v.rtt.get(p.id) ?? predictRttMs(p.coord, v.coord);
    const chunkMs = (this.config.chunkBytes * 8 * 1000) / p.uplinkBps;
    const fragmentMs = (this.config.fragmentBytes * 8 * 1000) / p.uplinkBps;
    return this.delayOf(p.id, depth) + rtt / 2 + Math.max(0, position) * chunkMs + fragmentMs;
  }

  /** Is `node` inside the subtree rooted at `top` (or `top` itself)? */
  private isInSubtree(node: PNode, top: PNode): boolean {
    let cur: PNode | undefined = node;
    for (let guard = 0; cur && guard < 100_000; guard++) {
      if (cur.id === top.id) return true;
      cur = cur.parent ? this.nodes.get(cur.parent) : undefined;
    }
    return false;
  }

  private subtreeSize(v: PNode): number {
    let n = 1;
    for (const c of v.children) {
      const child = this.nodes.get(c);
      if (child) n += this.subtreeSize(child);
    }
    return n;
  }
}
