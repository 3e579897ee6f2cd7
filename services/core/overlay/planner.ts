// The overlay planner (sans-IO): a push tree rooted at the origin and the edges that keeps the
// viewers' chunk delays low under every node's upload capacity and the CDN's slot budget.
//
// Delay model (model.ts, the formula the reference tree uses with true latencies): viewer v at
// child position i of parent p has
//     d(v) = d(p) + rtt(p, v)/2 + i · slotTime(p) + fragmentTime(p) + max(0, slotTime↓(v) − slotTime(p))
// where d(root) is what the root reported, rtt is measured (a Vivaldi estimate when never probed),
// slotTime is one child's turn on p's uplink for one release of the source (a whole chunk in segment
// production, one release unit when frame-paced). The planner computes d from its own tree, never
// from the delays peers report: those lag behind every move and made the tree drift (a move judged
// on a parent's stale delay put viewers deeper each round: world's mean depth grew 3.7 → 5.9 hops
// over a 30 s run). Children are kept in the order their relay serves them: higher priority first
// (the subtree size sent with the assignment), earlier subscribers first among equals.
//
// Objective: the sum of d over viewers. Every decision is scored by its exact change of that sum
// in the model: a subtree of s viewers moving to a place δ ms better gains s · δ, the siblings it
// jumps ahead of lose a slot each (times their subtree sizes), those behind it at its old parent
// gain one.
//
// Algorithm (greedy attach + local improvement, after OMNI; reference.ts is the offline bound):
// - join: the peer probes candidates the planner picks (roots, a sample, then the nearest by
//   coordinates with room); it goes where the sum grows least. O(K · depth) for K candidates.
// - leave / parent lost: each orphan re-attaches with its subtree the same way (largest first).
// - improve (periodic): over-budget (CDN-served) viewers move under peers first; a viewer that gains
//   more from a root's slot than the root's child who holds it loses by moving takes the slot
//   (displacement); then subtree moves to probed parents with room, best gain first. A move is made
//   only when the sum drops by more than max(hysteresisMs, hysteresisRatio × the moved subtree's
//   delay), and a moved viewer cools down for a few rounds: no move the model calls worse is ever
//   made, so in a run without churn the tree only improves. O(N · K · depth) per round.
// Capacity: children ≤ min(maxFanout, ⌊uplink / (bitrate × headroom)⌋) for peers; roots have slots,
// and with `rootShare` all roots together serve at most that share of the viewers (the CDN-byte
// budget of the peer path), or `minRootFed` viewers while the audience is small. With no slot
// anywhere a viewer goes to the best root over budget.
import type { Prng } from '../prng.js';
import { childCapacity, queueingMs, transmitMs, type HopModel } from './model.js';
import { newCoordinate, predictRttMs, updateCoordinate, type Coordinate } from './vivaldi.js';

export type Reason = 'join' | 'parent-lost' | 'improve';

export interface PlannerConfig {
  model: HopModel;
  bitrateBps: number;
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
  /** all roots together serve at most this share of the viewers directly (undefined: slots only) */
  rootShare?: number;
  /** ... but at least this many however few viewers have arrived (default 1) */
  minRootFed?: number;
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
  downlinkBps: number;
  parent: string | undefined;
  /** in the order the parent's relay serves them */
  children: string[];
  /** the priority this node subscribed to its parent with */
  priority: number;
  /** nodes in this node's subtree, itself included */
  size: number;
  reportedDelayMs: number | undefined;
  rtt: Map<string, number>;
  coord: Coordinate;
  /** served by a root beyond its budget because no slot was free */
  overBudget: boolean;
  /** improvement round of the last change of parent (moves cool down for a few rounds) */
  movedAtRound: number;
}

export class PlannerError extends Error {}

interface Placement {
  node: PNode;
  /** index in the parent's children where the relay would put it */
  position: number;
  /** the viewer's delay there */
  expected: number;
  /** change of the sum of delays over viewers (ms) */
  cost: number;
}

/**
 * A joining peer's later probe rounds pick the nearest peers with room by coordinates among at
 * most this many: all of them in an audience this small (the exact nearest), a uniform sample of
 * this many in a larger one, so a join costs O(1) instead of O(n) (n joins would cost O(n²): 10^4
 * viewers took minutes). In clustered audiences a sample this large holds hundreds of peers of the
 * joiner's own city, whose RTTs differ by less than the coordinates' error.
 */
export const NEAREST_POOL = 512;

/** A set with O(1) add, delete and uniform draw (swap-remove keeps the array dense). */
class IndexedSet {
  readonly items: string[] = [];
  private readonly at = new Map<string, number>();

  get size(): number {
    return this.items.length;
  }

  add(id: string): void {
    if (this.at.has(id)) return;
    this.at.set(id, this.items.length);
    this.items.push(id);
  }

  delete(id: string): void {
    const i = this.at.get(id);
    if (i === undefined) return;
    const last = this.items.pop()!;
    this.at.delete(id);
    if (last !== id) {
      this.items[i] = last;
      this.at.set(last, i);
    }
  }
}

export class OverlayPlanner {
  private readonly nodes = new Map<string, PNode>();
  private readonly rootIds: string[] = [];
  private round = 0;
  private readonly delayCache = new Map<string, number>();
  /** viewers directly below a root within its budget */
  private rootFed = 0;
  /** attached peers with room for a child */
  private readonly withRoom = new IndexedSet();
  /** attached viewers a root serves over its budget */
  private readonly overBudgetIds = new Set<string>();
  /** every node id, sorted (improvement rounds visit them in this order); undefined when stale */
  private sortedIds: string[] | undefined;

  constructor(
    readonly config: PlannerConfig,
    private readonly prng: Prng,
  ) {}

  /** A root (origin or edge) that may serve `slots` viewers directly, `delayMs` from the broadcaster. */
  addRoot(id: string, slots: number, uplinkBps: number, delayMs = 0): void {
    this.sortedIds = undefined;
    this.nodes.set(id, this.newNode(id, true, slots, uplinkBps, Infinity));
    this.nodes.get(id)!.reportedDelayMs = delayMs;
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
   * link capacities it declared (0 = not declared yet; the downlink may stay unknown).
   */
  register(peerId: string, uplinkBps: number, downlinkBps = 0): void {
    const known = this.nodes.get(peerId);
    if (known) {
      if (!known.root && uplinkBps > 0) {
        known.uplinkBps = uplinkBps;
        known.maxChildren = childCapacity(uplinkBps, this.config);
        this.refreshRoom(known);
      }
      if (!known.root && downlinkBps > 0) known.downlinkBps = downlinkBps;
      this.delayCache.clear();
      return;
    }
    this.sortedIds = undefined;
    this.nodes.set(
      peerId,
      this.newNode(
        peerId,
        false,
        childCapacity(uplinkBps, this.config),
        Math.max(uplinkBps, 1),
        downlinkBps > 0 ? downlinkBps : Infinity,
      ),
    );
  }

  /**
   * Records what a peer measured: RTTs (moving both coordinates; the least sample of a pair, in
   * either direction, is the pair's RTT) and the probed roots' delays.
   */
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
      // The least RTT seen (as ping and BBR's min_rtt do): a probe answered late by a busy
      // process (the join storm) only ever inflates it.
      const rtt = Math.min(s.rttMs, self.rtt.get(s.nodeId) ?? Infinity, other.rtt.get(peerId) ?? Infinity);
      self.rtt.set(s.nodeId, rtt);
      other.rtt.set(peerId, rtt);
      if (s.delayMs > 0) other.reportedDelayMs = s.delayMs;
    }
    this.delayCache.clear();
  }

  /** A peer's own measured delay (ms): kept for information; the model computes delays itself. */
  report(peerId: string, delayMs: number): void {
    const n = this.nodes.get(peerId);
    if (n && delayMs > 0) n.reportedDelayMs = delayMs;
    if (n?.root) this.delayCache.clear();
  }

  /**
   * Nodes a joining peer should probe: first round (no samples yet) the roots and a random
   * sample of peers with room; later rounds the nearest peers with room by coordinates.
   */
  candidatesFor(peerId: string): string[] {
    const self = this.nodes.get(peerId);
    const probed = self?.rtt ?? new Map<string, number>();
    const k = this.config.candidatesPerRound;
    const first = !self || probed.size === 0;
    const pool = this.roomPool(first ? k : NEAREST_POOL, (id) => id !== peerId && !probed.has(id));
    if (first) return [...this.rootIds, ...pool];
    // The k nearest, kept sorted as they are found: O(pool · k), not a sort of the pool.
    const best: Array<readonly [string, number]> = [];
    const before = (a: readonly [string, number], b: readonly [string, number]) =>
      a[1] < b[1] || (a[1] === b[1] && a[0] < b[0]);
    for (const id of pool) {
      const entry = [id, predictRttMs(self.coord, this.nodes.get(id)!.coord)] as const;
      if (best.length === k && !before(entry, best[k - 1]!)) continue;
      let at = best.length;
      while (at > 0 && before(entry, best[at - 1]!)) at--;
      best.splice(at, 0, entry);
      if (best.length > k) best.pop();
    }
    return best.map(([id]) => id);
  }

  /**
   * Peers with room that pass `ok`: up to NEAREST_POOL of them in node order (all when that is
   * every one), shuffled and cut to `want`; in a larger audience, `want` drawn uniformly at random.
   */
  private roomPool(want: number, ok: (id: string) => boolean): string[] {
    if (this.withRoom.size <= NEAREST_POOL) {
      const all: string[] = [];
      for (const n of this.nodes.values())
        if (!n.root && n.parent && n.children.length < n.maxChildren && ok(n.id)) all.push(n.id);
      return want >= all.length && want === NEAREST_POOL ? all : this.prng.shuffle(all).slice(0, want);
    }
    const items = this.withRoom.items;
    const picked = new Set<string>();
    for (let tries = 0; picked.size < want && tries < 4 * want; tries++) {
      const id = items[this.prng.int(0, items.length - 1)]!;
      if (ok(id)) picked.add(id);
    }
    return [...picked];
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
    this.withRoom.delete(peerId);
    this.sortedIds = undefined;
    // RTTs are recorded both ways (observe), so the nodes that know this one are those it knows.
    for (const id of v.rtt.keys()) this.nodes.get(id)?.rtt.delete(peerId);
    const orphans = v.children.map((id) => this.nodes.get(id)!).filter(Boolean);
    for (const o of orphans) {
      o.parent = undefined;
      this.withRoom.delete(o.id);
    }
    orphans.sort((a, b) => b.size - a.size || (a.id < b.id ? -1 : 1));
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
   * budget move first, to any peer with room (offload beats a few ms); then, in periodic rounds,
   * root slots change hands and subtrees move, each only when the model's sum of delays drops
   * clearly (hysteresis).
   */
  improve(maxMoves: number, periodic = true): Decision[] {
    // Cooldowns count periodic rounds only, not the extra ones new measurements trigger.
    if (periodic) this.round++;
    const moves: Decision[] = [];
    for (const id of [...this.overBudgetIds].sort()) {
      if (moves.length >= maxMoves) break;
      const v = this.nodes.get(id)!;
      if (!v.overBudget || !v.parent) continue;
      const best = this.bestPlacement(v, { peersOnly: true });
      if (best) moves.push(this.move(v, best));
    }
    // Rounds triggered by fresh measurements only rescue CDN-served viewers; the rest waits for
    // the periodic round and its cooldowns.
    if (!periodic) return moves;
    if (moves.length + 2 <= maxMoves) moves.push(...this.displaceAtRoots());
    const candidates: Array<{ v: PNode; gain: number }> = [];
    this.sortedIds ??= [...this.nodes.keys()].sort();
    for (const id of this.sortedIds) {
      const v = this.nodes.get(id)!;
      if (v.root || !v.parent || v.overBudget || this.coolingDown(v)) continue;
      const best = this.bestPlacement(v, { current: true });
      if (best && best.node.id !== v.parent && this.worthMoving(v, -best.cost))
        candidates.push({ v, gain: -best.cost });
    }
    candidates.sort((a, b) => b.gain - a.gain || (a.v.id < b.v.id ? -1 : 1));
    for (const { v } of candidates) {
      if (moves.length >= maxMoves) break;
      if (this.coolingDown(v) || !v.parent) continue;
      // Earlier moves this round changed the tree: score again before moving.
      const best = this.bestPlacement(v, { current: true });
      if (best && best.node.id !== v.parent && this.worthMoving(v, -best.cost)) moves.push(this.move(v, best));
    }
    return moves;
  }

  /** The model's delay of a node (ms): its root's reported delay plus each hop on its path. */
  delayOf(id: string): number {
    const cached = this.delayCache.get(id);
    if (cached !== undefined) return cached;
    const n = this.nodes.get(id);
    let d: number;
    if (!n) d = Infinity;
    else if (n.root) d = n.reportedDelayMs ?? 0;
    else if (!n.parent) d = Infinity;
    else {
      const p = this.nodes.get(n.parent)!;
      d = this.via(p, n, p.children.indexOf(n.id));
    }
    this.delayCache.set(id, d);
    return d;
  }

  /** The sum of the model's delays over attached viewers (ms). O(N). */
  totalDelayMs(): number {
    let total = 0;
    for (const n of this.nodes.values()) if (!n.root && n.parent) total += this.delayOf(n.id);
    return total;
  }

  /** Checks the invariants: every attached peer reachable from a root, capacities and order respected. */
  checkInvariants(): string[] {
    const problems: string[] = [];
    let rootFed = 0;
    for (const n of this.nodes.values()) {
      if (!n.root && n.children.length > n.maxChildren)
        problems.push(`${n.id} has ${n.children.length} children > ${n.maxChildren}`);
      if (n.root) rootFed += n.children.filter((c) => !this.nodes.get(c)?.overBudget).length;
      for (const c of n.children)
        if (this.nodes.get(c)?.parent !== n.id)
          problems.push(`${c} listed under ${n.id} but its parent is ${this.nodes.get(c)?.parent}`);
      for (let i = 1; i < n.children.length; i++)
        if (this.nodes.get(n.children[i - 1]!)!.priority < this.nodes.get(n.children[i]!)!.priority)
          problems.push(`${n.id} serves ${n.children[i]} after a child of lower priority`);
      let size = 1;
      for (const c of n.children) size += this.nodes.get(c)?.size ?? 0;
      if (size !== n.size) problems.push(`${n.id} counts a subtree of ${n.size}, has ${size}`);
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
    if (rootFed !== this.rootFed) problems.push(`root-fed count ${this.rootFed}, counted ${rootFed}`);
    const room = new Set(this.withRoom.items);
    for (const n of this.nodes.values()) {
      const hasRoom = !n.root && !!n.parent && n.children.length < n.maxChildren;
      if (room.has(n.id) !== hasRoom) problems.push(`${n.id} ${hasRoom ? 'has room but is not' : 'is'} in withRoom`);
      if (this.overBudgetIds.has(n.id) !== (n.overBudget && !!n.parent))
        problems.push(`${n.id}: overBudget ${n.overBudget}, in overBudgetIds ${this.overBudgetIds.has(n.id)}`);
    }
    if (room.size !== this.withRoom.size || [...room].some((id) => !this.nodes.has(id)))
      problems.push('withRoom holds a node that left');
    return problems;
  }

  // ---- placement ------------------------------------------------------------------------------

  /**
   * A root's slot is the most valuable: whoever joined first took it. When a viewer X would gain
   * more from it than the root's child Y who holds it loses by moving to its best other parent
   * (possibly below X), they exchange — OMNI's local transformation, scored on the sum of delays.
   */
  private displaceAtRoots(): Decision[] {
    const out: Decision[] = [];
    for (const rootId of this.rootIds) {
      const root = this.nodes.get(rootId)!;
      if (this.rootHasRoom(root) || root.children.length === 0) continue;
      // The best taker: the viewer whose subtree gains most from the root's last slot.
      let taker: { node: PNode; gain: number } | undefined;
      for (const x of this.nodes.values()) {
        if (x.root || !x.parent || x.parent === root.id || x.overBudget || this.coolingDown(x)) continue;
        const gain = x.size * (this.delayOf(x.id) - this.placeAt(x, root).expected);
        if (gain > 0 && (!taker || gain > taker.gain)) taker = { node: x, gain };
      }
      if (!taker) continue;
      const x = taker.node;
      const before = this.totalDelayMs();
      // Try each holder in turn: X takes its slot, it goes to its best place with room.
      let done: Decision[] | undefined;
      for (const yId of [...root.children]) {
        const y = this.nodes.get(yId)!;
        if (y.overBudget || this.coolingDown(y)) continue;
        // x may hang below y: it leaves y's subtree first, and y may then go below x.
        const undo = { x: this.snapshot(x), y: this.snapshot(y) };
        this.detach(x);
        this.detach(y);
        this.link(x, root, x.size, false);
        const alt = this.bestPlacement(y, { peersOnly: true, exclude: root.id });
        if (alt) {
          this.link(y, alt.node, y.size, false);
          const gain = before - this.totalDelayMs();
          if (this.worthMoving(x, gain)) {
            done = [this.decision(x, 'improve'), this.decision(y, 'improve')];
            x.movedAtRound = this.round;
            y.movedAtRound = this.round;
            break;
          }
          this.detach(y);
        }
        this.detach(x);
        this.restore(y, undo.y);
        this.restore(x, undo.x);
      }
      if (done) out.push(...done);
    }
    return out;
  }

  private worthMoving(v: PNode, gainMs: number): boolean {
    const threshold = Math.max(this.config.hysteresisMs, this.config.hysteresisRatio * v.size * this.delayOf(v.id));
    return gainMs > threshold;
  }

  private coolingDown(v: PNode): boolean {
    return this.round - v.movedAtRound <= this.config.cooldownRounds;
  }

  private rootFedLimit(): number {
    const share = this.config.rootShare;
    return share === undefined ? Infinity : Math.max(this.config.minRootFed ?? 1, Math.floor(share * this.peerCount));
  }

  private rootHasRoom(root: PNode): boolean {
    return root.children.length < root.maxChildren && this.rootFed < this.rootFedLimit();
  }

  private attach(v: PNode, reason: Reason): Decision {
    const best = this.bestPlacement(v, {});
    if (best) {
      this.link(v, best.node, v.size, false);
      return this.decision(v, reason);
    }
    // No slot anywhere: the CDN serves it (the best root, over its budget).
    let root: Placement | undefined;
    for (const id of this.rootIds) {
      const at = this.placeAt(v, this.nodes.get(id)!);
      if (!root || at.cost < root.cost) root = at;
    }
    if (!root) throw new PlannerError('the overlay has no root: add the origin before peers join');
    this.link(v, root.node, v.size, true);
    return this.decision(v, reason);
  }

  private move(v: PNode, to: Placement): Decision {
    this.detach(v);
    this.link(v, to.node, v.size, false);
    return this.decision(v, 'improve');
  }

  private decision(v: PNode, reason: Reason): Decision {
    v.movedAtRound = this.round;
    return {
      peerId: v.id,
      parentId: v.parent!,
      reason,
      expectedDelayMs: this.delayOf(v.id),
      priority: v.priority,
      overBudget: v.overBudget,
    };
  }

  /**
   * Where v (with its subtree) costs the sum least: the roots with room and the peers v probed
   * with room, never in v's subtree. `current`: v's own parent competes too, at its position now.
   */
  private bestPlacement(
    v: PNode,
    o: { current?: boolean; peersOnly?: boolean; exclude?: string },
  ): Placement | undefined {
    let best: Placement | undefined;
    const stay = o.current && v.parent ? this.nodes.get(v.parent) : undefined;
    const consider = (p: PNode) => {
      if (p.id === v.id || p.id === o.exclude || p === stay) return;
      if (p.root ? !this.rootHasRoom(p) : p.children.length >= p.maxChildren || !p.parent) return;
      if (!p.root && this.isInSubtree(p, v)) return;
      const at = this.placeAt(v, p);
      if (!best || at.cost < best.cost || (at.cost === best.cost && p.id < best.node.id)) best = at;
    };
    if (!o.peersOnly) for (const id of this.rootIds) consider(this.nodes.get(id)!);
    for (const id of v.rtt.keys()) {
      const p = this.nodes.get(id);
      if (p && !p.root) consider(p);
    }
    if (!best || !stay) return best;
    // Relative to staying: the cost of leaving (those behind v move up a slot) is subtracted.
    const leaveGain = this.slotMs(stay) * this.sizesFrom(stay, stay.children.indexOf(v.id) + 1);
    const found = best as Placement;
    const cost = v.size * (found.expected - this.delayOf(v.id)) + (found.cost - v.size * found.expected) - leaveGain;
    return cost < 0 ? { ...found, cost } : undefined;
  }

  /**
   * v (with its subtree, not attached to p) placed under p where its relay would serve it: its
   * delay there and the change of the sum — v's subtree at that delay plus one more slot of wait
   * for every subtree served after it.
   */
  private placeAt(v: PNode, p: PNode): Placement {
    let position = p.children.findIndex((c) => this.nodes.get(c)!.priority < v.size);
    if (position < 0) position = p.children.length;
    const expected = this.via(p, v, position);
    const cost = v.size * expected + this.slotMs(p) * this.sizesFrom(p, position);
    return { node: p, position, expected, cost };
  }

  private via(p: PNode, v: PNode, position: number): number {
    const rtt = p.rtt.get(v.id) ?? v.rtt.get(p.id) ?? predictRttMs(p.coord, v.coord);
    return this.delayOf(p.id) + rtt / 2 + queueingMs(this.config.model, p.uplinkBps, v.downlinkBps, position);
  }

  private slotMs(p: PNode): number {
    return transmitMs(this.config.model.slotBytes, p.uplinkBps);
  }

  /** Viewers in the subtrees of p's children from index `from` on. */
  private sizesFrom(p: PNode, from: number): number {
    let n = 0;
    for (let i = Math.max(0, from); i < p.children.length; i++) n += this.nodes.get(p.children[i]!)!.size;
    return n;
  }

  // ---- the tree -------------------------------------------------------------------------------

  /** Links v below p with the priority its relay will serve it at. */
  private link(v: PNode, p: PNode, priority: number, overBudget: boolean): void {
    v.parent = p.id;
    v.priority = priority;
    v.overBudget = overBudget;
    if (overBudget) this.overBudgetIds.add(v.id);
    else this.overBudgetIds.delete(v.id);
    let at = p.children.findIndex((c) => this.nodes.get(c)!.priority < priority);
    if (at < 0) at = p.children.length;
    p.children.splice(at, 0, v.id);
    if (p.root && !overBudget) this.rootFed++;
    this.refreshRoom(v);
    this.refreshRoom(p);
    this.resize(p, v.size);
    this.delayCache.clear();
  }

  private detach(v: PNode): void {
    if (!v.parent) return;
    const p = this.nodes.get(v.parent);
    if (p) {
      p.children = p.children.filter((c) => c !== v.id);
      if (p.root && !v.overBudget) this.rootFed--;
      this.resize(p, -v.size);
      this.refreshRoom(p);
    }
    v.parent = undefined;
    this.overBudgetIds.delete(v.id);
    this.withRoom.delete(v.id);
    this.delayCache.clear();
  }

  /** Keeps `withRoom` true: attached peers with fewer children than they may have. */
  private refreshRoom(n: PNode): void {
    if (!n.root && n.parent && n.children.length < n.maxChildren && this.nodes.get(n.id) === n) this.withRoom.add(n.id);
    else this.withRoom.delete(n.id);
  }

  private resize(from: PNode, delta: number): void {
    for (let cur: PNode | undefined = from; cur; cur = cur.parent ? this.nodes.get(cur.parent) : undefined)
      cur.size += delta;
  }

  private snapshot(v: PNode): { parent: string | undefined; priority: number; overBudget: boolean; index: number } {
    const p = v.parent ? this.nodes.get(v.parent) : undefined;
    return { parent: v.parent, priority: v.priority, overBudget: v.overBudget, index: p?.children.indexOf(v.id) ?? -1 };
  }

  /** Puts a detached v back exactly where `snapshot` saw it. */
  private restore(v: PNode, s: ReturnType<OverlayPlanner['snapshot']>): void {
    if (!s.parent) return;
    const p = this.nodes.get(s.parent)!;
    v.parent = p.id;
    v.priority = s.priority;
    v.overBudget = s.overBudget;
    if (s.overBudget) this.overBudgetIds.add(v.id);
    p.children.splice(Math.min(s.index, p.children.length), 0, v.id);
    if (p.root && !s.overBudget) this.rootFed++;
    this.refreshRoom(v);
    this.refreshRoom(p);
    this.resize(p, v.size);
    this.delayCache.clear();
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

  private newNode(id: string, root: boolean, maxChildren: number, uplinkBps: number, downlinkBps: number): PNode {
    return {
      id,
      root,
      maxChildren,
      uplinkBps,
      downlinkBps,
      parent: undefined,
      children: [],
      priority: 0,
      size: 1,
      reportedDelayMs: undefined,
      rtt: new Map(),
      coord: newCoordinate(),
      overBudget: false,
      movedAtRound: -Infinity,
    };
  }
}
