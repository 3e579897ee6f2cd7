// The reference tree (sans-IO): the push tree a planner with full knowledge would build — true
// latencies, the same capacities, slot budgets and fan-out limits as the tracker's planner — so a
// run can tell planning error (planner gap) from estimation error (proximity).
//
// Delay of viewer v under parent p at child position i (model.ts, the planner's formula with
// true latencies instead of measured RTTs):
//     d(v) = d(p) + latency(p, v) + i · slotTime(p) + fragmentTime(p) + max(0, slotTime↓(v) − slotTime(p))
// with each parent's children ordered largest subtree first (the order relays serve them in;
// it minimises Σ position × subtree size), and d(root) given (broadcaster → origin → edge).
// Objective: the mean of d(v) over viewers (OMNI's degree-constrained minimum average-latency
// tree, NP-hard), within: children(p) ≤ min(maxFanout, ⌊uplink / (bitrate · headroom)⌋) for peers,
// ≤ slots for roots, and all roots together ≤ rootBudget.
//
// Algorithm (greedy, then local search after OMNI, Banerjee et al. 2003):
// - greedy: viewers in the given order (join order) each take the free slot with the least d(v);
//   with no slot anywhere, the best root beyond its budget (as the planner does). O(N · n).
// - local search, repeated until a whole pass finds no move that lowers the mean delay:
//   · subtree move: v and its subtree to another parent with a free slot (OMNI's transfer);
//   · subtree swap: v and u exchange parents, each with its subtree (iso-/aniso-level swaps);
//   · promote: v takes its parent's place, the parent becomes v's child (parent-child swap).
//   Candidates are ranked by a first-order estimate (v's new delay × its subtree size, plus the
//   siblings that move a slot up or down); the best few are applied and kept only when the exact
//   recomputed mean is lower, so every kept move strictly improves it and the search ends.
// Cost: one exact evaluation is O(n log k); a pass is O(N · n · k) for the estimates plus
// O(N · n log k) for verifications. N = 120 takes milliseconds; N = 1 000 about a second a pass.
// Only the lab runs it, once per p2p run; the tracker never does.
import { childCapacity, queueingMs, transmitMs, type HopModel } from './model.js';

export interface ReferenceHost {
  id: string;
  uplinkBps: number;
  downlinkBps: number;
}

export interface ReferenceRoot extends ReferenceHost {
  /** delay (ms) from production to this root holding a chunk's last byte */
  delayMs: number;
  /** viewers it may serve directly */
  slots: number;
}

export interface ReferenceInput {
  /** origin and edges */
  roots: ReferenceRoot[];
  /** in the order the greedy start attaches them (join order) */
  viewers: ReferenceHost[];
  /** true one-way latency between two hosts (ms) */
  latencyMs(a: string, b: string): number;
  model: HopModel;
  capacity: { bitrateBps: number; headroom: number; maxFanout: number };
  /** viewers all roots together may serve directly (the CDN-byte budget); default: their slots only */
  rootBudget?: number;
}

export interface TreeDelays {
  /** each viewer's modelled delay (ms) */
  delayMs: Map<string, number>;
  meanDelayMs: number;
}

export interface ReferenceTree extends TreeDelays {
  /** viewer → parent */
  parent: Map<string, string>;
  /** the greedy tree's mean delay, before local search */
  greedyMeanDelayMs: number;
  /** viewers served by a root beyond its slots (no slot anywhere) */
  overBudget: number;
  /** improving moves kept */
  moves: number;
  passes: number;
}

export interface ReferenceOptions {
  /** stop after this many passes even if moves remain (each pass is O(N · n · k)) */
  maxPasses?: number;
  /** candidates per move kind verified exactly for each viewer */
  verifyPerKind?: number;
  /** skip the local search (the greedy tree alone) */
  greedyOnly?: boolean;
}

/** Improvements below this (ms, summed over viewers) are float noise, not moves. */
const EPSILON_MS = 1e-6;

/** Greedy attach, then local search until no move lowers the mean delay. */
export function referenceTree(input: ReferenceInput, opts: ReferenceOptions = {}): ReferenceTree {
  const t = new Tree(input);
  const overBudget = t.greedy();
  const greedyTotal = t.recompute();
  let moves = 0;
  let passes = 0;
  if (!opts.greedyOnly) {
    const maxPasses = opts.maxPasses ?? 100;
    const verify = opts.verifyPerKind ?? 3;
    for (; passes < maxPasses; ) {
      passes++;
      const made = t.pass(verify);
      moves += made;
      if (made === 0) break;
    }
  }
  const total = t.recompute();
  return {
    ...t.delays(total),
    parent: t.parents(),
    greedyMeanDelayMs: t.viewerCount > 0 ? greedyTotal / t.viewerCount : 0,
    overBudget,
    moves,
    passes,
  };
}

/**
 * The modelled delays of a given tree (viewer → parent), e.g. the planner's at the end of a run.
 * Viewers whose parent is unknown, or who hang below one, are left out.
 */
export function evaluateTree(input: ReferenceInput, parentOf: ReadonlyMap<string, string>): TreeDelays {
  const t = new Tree(input);
  t.adopt(parentOf);
  return t.delays(t.recompute());
}

class Tree {
  private readonly n: number;
  private readonly r: number;
  private readonly ids: string[];
  private readonly up: Float64Array;
  private readonly down: Float64Array;
  private readonly cap: Int32Array;
  private readonly slotMs: Float64Array;
  /** latency (ms) from any node (row) to any viewer (column - r) */
  private readonly lat: Float64Array;
  private readonly parent: Int32Array;
  private readonly kids: number[][];
  private readonly size: Int32Array;
  private readonly delay: Float64Array;
  /** node ids reachable from a root (viewers left out of `adopt`ed trees are not) */
  private readonly attached: Uint8Array;
  private total = 0;

  constructor(private readonly input: ReferenceInput) {
    const hosts: ReferenceHost[] = [...input.roots, ...input.viewers];
    this.r = input.roots.length;
    this.n = hosts.length;
    const n = this.n;
    this.ids = hosts.map((h) => h.id);
    this.up = Float64Array.from(hosts, (h) => h.uplinkBps);
    this.down = Float64Array.from(hosts, (h) => h.downlinkBps);
    this.cap = Int32Array.from(hosts, (h, i) =>
      i < this.r ? input.roots[i]!.slots : childCapacity(h.uplinkBps, input.capacity),
    );
    this.slotMs = Float64Array.from(hosts, (h) => transmitMs(input.model.slotBytes, h.uplinkBps));
    const viewers = n - this.r;
    this.lat = new Float64Array(n * viewers);
    for (let a = 0; a < n; a++)
      for (let v = 0; v < viewers; v++)
        this.lat[a * viewers + v] = a === v + this.r ? 0 : input.latencyMs(this.ids[a]!, this.ids[v + this.r]!);
    this.parent = new Int32Array(n).fill(-1);
    this.kids = hosts.map(() => []);
    this.size = new Int32Array(n);
    this.delay = new Float64Array(n);
    this.attached = new Uint8Array(n);
    for (let i = 0; i < this.r; i++) this.attached[i] = 1;
  }

  get viewerCount(): number {
    return this.n - this.r;
  }

  /** Whether q can take v (v's current parent aside): a free slot, and for a root the shared budget. */
  private hasRoom(q: number, v: number): boolean {
    if (!this.attached[q] || this.kids[q]!.length >= this.cap[q]!) return false;
    if (q >= this.r) return true;
    const fromRoot = this.parent[v]! >= 0 && this.parent[v]! < this.r ? 1 : 0;
    return this.rootFed() - fromRoot < (this.input.rootBudget ?? Infinity);
  }

  private rootFed(): number {
    let n = 0;
    for (let root = 0; root < this.r; root++) n += this.kids[root]!.length;
    return n;
  }

  /** Attaches every viewer where it is best now; returns how many went to a root over budget. */
  greedy(): number {
    let overBudget = 0;
    this.recompute();
    for (let v = this.r; v < this.n; v++) {
      let best = -1;
      let bestDelay = Infinity;
      for (let q = 0; q < this.n; q++) {
        if (!this.hasRoom(q, v)) continue;
        const d = this.via(q, v, this.kids[q]!.length);
        if (d < bestDelay) {
          bestDelay = d;
          best = q;
        }
      }
      if (best < 0) {
        for (let q = 0; q < this.r; q++) {
          const d = this.via(q, v, this.kids[q]!.length);
          if (d < bestDelay) {
            bestDelay = d;
            best = q;
          }
        }
        overBudget++;
      }
      if (best < 0) throw new Error('the reference tree needs at least one root');
      this.link(v, best);
      this.recompute();
    }
    return overBudget;
  }

  /** Takes a given tree (ids); viewers not reachable from a root stay out. */
  adopt(parentOf: ReadonlyMap<string, string>): void {
    const index = new Map(this.ids.map((id, i) => [id, i]));
    for (let v = this.r; v < this.n; v++) {
      const p = index.get(parentOf.get(this.ids[v]!) ?? '');
      if (p !== undefined && p !== v) this.link(v, p);
    }
  }

  /** One pass of local search over every viewer; returns the moves kept. */
  pass(verify: number): number {
    let made = 0;
    const inSub = new Uint8Array(this.n);
    const isAncestor = new Uint8Array(this.n);
    for (let v = this.r; v < this.n; v++) {
      if (!this.attached[v]) continue;
      this.mark(v, inSub, 1);
      for (let a = this.parent[v]!; a >= 0; a = this.parent[a]!) isAncestor[a] = 1;
      if (
        this.tryMoves(v, inSub, verify) ||
        this.trySwaps(v, inSub, isAncestor, verify) ||
        this.tryPromote(v) ||
        this.tryDisplace(v, inSub, verify)
      )
        made++;
      this.mark(v, inSub, 0);
      isAncestor.fill(0);
    }
    return made;
  }

  private tryMoves(v: number, inSub: Uint8Array, verify: number): boolean {
    const p = this.parent[v]!;
    const s = this.size[v]!;
    const after = this.sizesAfter(p, v);
    const candidates: Array<[number, number]> = [];
    for (let q = 0; q < this.n; q++) {
      if (q === p || inSub[q] || !this.hasRoom(q, v)) continue;
      let pos = 0;
      let pushedBack = 0;
      for (const c of this.kids[q]!) {
        if (this.size[c]! >= s) pos++;
        else pushedBack += this.size[c]!;
      }
      const est = s * (this.via(q, v, pos) - this.delay[v]!) + this.slotMs[q]! * pushedBack - this.slotMs[p]! * after;
      if (est < -EPSILON_MS) candidates.push([est, q]);
    }
    for (const [, q] of best(candidates, verify)) {
      const before = this.total;
      this.unlink(v);
      this.link(v, q);
      if (this.recompute() < before - EPSILON_MS) return true;
      this.unlink(v);
      this.link(v, p);
      this.recompute();
    }
    return false;
  }

  private trySwaps(v: number, inSub: Uint8Array, isAncestor: Uint8Array, verify: number): boolean {
    const pv = this.parent[v]!;
    const posV = this.kids[pv]!.indexOf(v);
    const candidates: Array<[number, number]> = [];
    for (let u = this.r; u < this.n; u++) {
      const pu = this.parent[u]!;
      if (u === v || pu === pv || pu < 0 || inSub[u] || isAncestor[u] || !this.attached[u]) continue;
      const posU = this.kids[pu]!.indexOf(u);
      const est =
        this.size[v]! * (this.via(pu, v, posU) - this.delay[v]!) +
        this.size[u]! * (this.via(pv, u, posV) - this.delay[u]!);
      if (est < -EPSILON_MS) candidates.push([est, u]);
    }
    for (const [, u] of best(candidates, verify)) {
      const before = this.total;
      const pu = this.parent[u]!;
      this.unlink(v);
      this.unlink(u);
      this.link(v, pu);
      this.link(u, pv);
      if (this.recompute() < before - EPSILON_MS) return true;
      this.unlink(v);
      this.unlink(u);
      this.link(v, pv);
      this.link(u, pu);
      this.recompute();
    }
    return false;
  }

  /** v takes the place of its parent p (a viewer); p becomes v's child; their other children swap. */
  private tryPromote(v: number): boolean {
    const p = this.parent[v]!;
    if (p < this.r) return false;
    const g = this.parent[p]!;
    const vKids = [...this.kids[v]!];
    const pKids = this.kids[p]!.filter((c) => c !== v);
    if (pKids.length + 1 > this.cap[v]! || vKids.length > this.cap[p]!) return false;
    const before = this.total;
    const apply = (top: number, below: number, topKids: number[], belowKids: number[]) => {
      for (const c of [...this.kids[top]!, ...this.kids[below]!]) if (c !== top && c !== below) this.unlink(c);
      this.unlink(below);
      this.unlink(top);
      this.link(top, g);
      this.link(below, top);
      for (const c of topKids) this.link(c, top);
      for (const c of belowKids) this.link(c, below);
    };
    apply(v, p, pKids, vKids);
    if (this.recompute() < before - EPSILON_MS) return true;
    apply(p, v, pKids, vKids);
    this.recompute();
    return false;
  }

  /**
   * v takes the slot of another node c (anywhere outside v's subtree, even an ancestor of v) and c,
   * with what remains of its subtree, goes to its best free slot: the move that hands a root's slot
   * from whoever took it first to the viewer that gains most from it.
   */
  private tryDisplace(v: number, inSub: Uint8Array, verify: number): boolean {
    const candidates: Array<[number, number]> = [];
    for (let c = this.r; c < this.n; c++) {
      const q = this.parent[c]!;
      if (c === v || q < 0 || inSub[c] || q === this.parent[v]) continue;
      const est = this.size[v]! * (this.via(q, v, this.kids[q]!.indexOf(c)) - this.delay[v]!);
      if (est < -EPSILON_MS) candidates.push([est, c]);
    }
    for (const [, c] of best(candidates, verify)) {
      const before = this.total;
      const pv = this.parent[v]!;
      const q = this.parent[c]!;
      this.unlink(v);
      this.unlink(c);
      this.link(v, q);
      this.recompute();
      const to = this.bestFreeParent(c);
      if (to >= 0) {
        this.link(c, to);
        if (this.recompute() < before - EPSILON_MS) return true;
        this.unlink(c);
      }
      this.unlink(v);
      this.link(v, pv);
      this.link(c, q);
      this.recompute();
    }
    return false;
  }

  /** The free slot (outside c's subtree) where c would have the least delay now, or -1. */
  private bestFreeParent(c: number): number {
    const inSub = new Uint8Array(this.n);
    this.mark(c, inSub, 1);
    let best = -1;
    let bestDelay = Infinity;
    for (let q = 0; q < this.n; q++) {
      if (inSub[q] || !this.hasRoom(q, c)) continue;
      const d = this.via(q, c, this.kids[q]!.length);
      if (d < bestDelay) {
        bestDelay = d;
        best = q;
      }
    }
    return best;
  }

  /** Exact delays of the current tree; returns their sum over attached viewers. */
  recompute(): number {
    const order: number[] = [];
    const stack: number[] = [];
    for (let root = 0; root < this.r; root++) stack.push(root);
    this.attached.fill(0);
    while (stack.length > 0) {
      const x = stack.pop()!;
      this.attached[x] = 1;
      order.push(x);
      for (const c of this.kids[x]!) stack.push(c);
    }
    for (let i = order.length - 1; i >= 0; i--) {
      const x = order[i]!;
      let s = 1;
      for (const c of this.kids[x]!) s += this.size[c]!;
      this.size[x] = s;
    }
    let total = 0;
    for (const x of order) {
      if (x < this.r) this.delay[x] = this.input.roots[x]!.delayMs;
      const kids = this.kids[x]!;
      kids.sort((a, b) => this.size[b]! - this.size[a]! || a - b);
      for (let i = 0; i < kids.length; i++) {
        const c = kids[i]!;
        this.delay[c] = this.via(x, c, i);
        total += this.delay[c]!;
      }
    }
    this.total = total;
    return total;
  }

  delays(total: number): TreeDelays {
    const delayMs = new Map<string, number>();
    for (let v = this.r; v < this.n; v++) if (this.attached[v]) delayMs.set(this.ids[v]!, this.delay[v]!);
    return { delayMs, meanDelayMs: delayMs.size > 0 ? total / delayMs.size : 0 };
  }

  parents(): Map<string, string> {
    const out = new Map<string, string>();
    for (let v = this.r; v < this.n; v++) if (this.parent[v]! >= 0) out.set(this.ids[v]!, this.ids[this.parent[v]!]!);
    return out;
  }

  /** Modelled delay of viewer v at `position` under q (q's own delay as computed last). */
  private via(q: number, v: number, position: number): number {
    const viewers = this.n - this.r;
    return (
      this.delay[q]! +
      this.lat[q * viewers + (v - this.r)]! +
      queueingMs(this.input.model, this.up[q]!, this.down[v]!, position)
    );
  }

  /** Total subtree size of p's children served after v (they move a slot up when v leaves). */
  private sizesAfter(p: number, v: number): number {
    const kids = this.kids[p]!;
    let sum = 0;
    for (let i = kids.indexOf(v) + 1; i < kids.length; i++) sum += this.size[kids[i]!]!;
    return sum;
  }

  private mark(v: number, marks: Uint8Array, value: 0 | 1): void {
    const stack = [v];
    while (stack.length > 0) {
      const x = stack.pop()!;
      marks[x] = value;
      for (const c of this.kids[x]!) stack.push(c);
    }
  }

  private link(v: number, p: number): void {
    this.parent[v] = p;
    this.kids[p]!.push(v);
  }

  private unlink(v: number): void {
    const p = this.parent[v]!;
    if (p < 0) return;
    const kids = this.kids[p]!;
    kids.splice(kids.indexOf(v), 1);
    this.parent[v] = -1;
  }
}

/** The `k` candidates with the lowest estimate, best first. */
function best(candidates: Array<[number, number]>, k: number): Array<[number, number]> {
  return candidates.sort((a, b) => a[0] - b[0] || a[1] - b[1]).slice(0, k);
}
