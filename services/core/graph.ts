// Explicit network graphs: undirected links with latency and bandwidth, nodes with a transit
// capacity, and Dijkstra shortest paths (by latency; among equal-latency routes the widest).
// Used by the scenario planner for `graph:` scenarios; pure data structure, no I/O.

import { LATENCY_TIE_RELATIVE_EPSILON } from './constants.js';
import { MinHeap } from './heap.js';

/** Thrown when a caller names a node the graph does not have. */
export class UnknownNodeError extends Error {
  override readonly name = 'UnknownNodeError';
  constructor(readonly nodeId: string) {
    super(`graph has no node "${nodeId}" — check the id against the scenario's nodes`);
  }
}

/** Thrown when a link would be meaningless (negative latency, non-positive bandwidth, self-loop). */
export class InvalidLinkError extends Error {
  override readonly name = 'InvalidLinkError';
}

interface Adjacent {
  to: number;
  latencyMs: number;
  bandwidthBps: number;
}

/** All shortest paths from one source, indexed by node index (see Graph.indexOf). */
export interface ShortestPathTree {
  source: number;
  /** one-way latency from the source; Infinity when unreachable */
  distanceMs: Float64Array;
  /** previous node on the path from the source; -1 for the source and unreachable nodes */
  previous: Int32Array;
  /**
   * narrowest capacity on the path: its links' bandwidths and the transit capacity of the nodes
   * strictly between source and target (the end nodes' own up/down links are the caller's to add)
   */
  widthBps: Float64Array;
}

export interface ShortestPath {
  distanceMs: number;
  /** node ids from a to b, both included */
  path: string[];
  /** see ShortestPathTree.widthBps */
  widthBps: number;
}

export class Graph {
  readonly #ids: string[] = [];
  readonly #index = new Map<string, number>();
  readonly #adjacency: Adjacent[][] = [];
  readonly #transitBps: number[] = [];

  /**
   * Adds a node; transitBps is what a path crossing it can carry at most (Infinity for a switch,
   * min(uplink, downlink) for a host that relays). Adding an existing id returns its index.
   */
  addNode(id: string, transitBps = Number.POSITIVE_INFINITY): number {
    const existing = this.#index.get(id);
    if (existing !== undefined) return existing;
    const i = this.#ids.length;
    this.#ids.push(id);
    this.#index.set(id, i);
    this.#adjacency.push([]);
    this.#transitBps.push(transitBps);
    return i;
  }

  /** Adds an undirected link between two existing nodes. */
  addLink(a: string, b: string, latencyMs: number, bandwidthBps: number): void {
    const ia = this.#require(a);
    const ib = this.#require(b);
    if (ia === ib) throw new InvalidLinkError(`link ${a}–${b} connects a node to itself`);
    if (!(latencyMs >= 0) || !Number.isFinite(latencyMs)) {
      throw new InvalidLinkError(`link ${a}–${b}: latencyMs must be ≥ 0 (got ${latencyMs})`);
    }
    if (!(bandwidthBps > 0)) {
      throw new InvalidLinkError(`link ${a}–${b}: bandwidthBps must be > 0 (got ${bandwidthBps})`);
    }
    this.#adjacency[ia]!.push({ to: ib, latencyMs, bandwidthBps });
    this.#adjacency[ib]!.push({ to: ia, latencyMs, bandwidthBps });
  }

  get size(): number {
    return this.#ids.length;
  }

  indexOf(id: string): number | undefined {
    return this.#index.get(id);
  }

  idAt(index: number): string {
    const id = this.#ids[index];
    if (id === undefined) throw new UnknownNodeError(`#${index}`);
    return id;
  }

  /** Ids of the nodes directly linked to id, in link order (duplicates for parallel links). */
  neighbours(id: string): string[] {
    return this.#adjacency[this.#require(id)]!.map((e) => this.#ids[e.to]!);
  }

  /** Bandwidths of the links touching id (used for "default to the largest link" rules). */
  linkBandwidthsBps(id: string): number[] {
    return this.#adjacency[this.#require(id)]!.map((e) => e.bandwidthBps);
  }

  /** Ids reachable from source (source included), ignoring capacities. */
  reachableFrom(source: string): Set<string> {
    const seen = new Set<number>([this.#require(source)]);
    const stack = [...seen];
    while (stack.length > 0) {
      const u = stack.pop()!;
      for (const e of this.#adjacency[u]!) {
        if (!seen.has(e.to)) {
          seen.add(e.to);
          stack.push(e.to);
        }
      }
    }
    return new Set([...seen].map((i) => this.#ids[i]!));
  }

  /**
   * Dijkstra from source over link latency. Among routes whose latency is equal (within a
   * relative 1e-9) the one with the larger width wins, then the one found first — so the result
   * is deterministic for a given insertion order.
   */
  shortestPaths(source: string): ShortestPathTree {
    const s = this.#require(source);
    const n = this.#ids.length;
    const distanceMs = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
    const widthBps = new Float64Array(n);
    const previous = new Int32Array(n).fill(-1);
    const done = new Uint8Array(n);
    distanceMs[s] = 0;
    widthBps[s] = Number.POSITIVE_INFINITY;
    const heap = new MinHeap(less);
    heap.push({ d: 0, w: Number.POSITIVE_INFINITY, node: s });
    for (let top = heap.pop(); top !== undefined; top = heap.pop()) {
      const u = top.node;
      if (done[u]) continue;
      done[u] = 1;
      const du = distanceMs[u]!;
      // Crossing u limits the path to u's transit capacity, but not when u is the source: the
      // source's own uplink is the caller's to apply (it is a property of a, not of the path).
      const viaU = u === s ? widthBps[u]! : Math.min(widthBps[u]!, this.#transitBps[u]!);
      for (const e of this.#adjacency[u]!) {
        if (done[e.to]) continue;
        const d = du + e.latencyMs;
        const w = Math.min(viaU, e.bandwidthBps);
        const old = distanceMs[e.to]!;
        const tie = Math.abs(d - old) <= LATENCY_TIE_RELATIVE_EPSILON * Math.max(1, Math.abs(d));
        if ((d < old && !tie) || (tie && w > widthBps[e.to]!)) {
          distanceMs[e.to] = d;
          widthBps[e.to] = w;
          previous[e.to] = u;
          heap.push({ d, w, node: e.to });
        }
      }
    }
    return { source: s, distanceMs, previous, widthBps };
  }

  /** The shortest path a → b, or undefined when b cannot be reached from a. */
  shortestPath(a: string, b: string): ShortestPath | undefined {
    const tree = this.shortestPaths(a);
    const ib = this.#require(b);
    return this.pathIn(tree, ib);
  }

  /** Reads one path out of a tree computed by shortestPaths. */
  pathIn(tree: ShortestPathTree, target: number): ShortestPath | undefined {
    const distanceMs = tree.distanceMs[target];
    if (distanceMs === undefined || distanceMs === Number.POSITIVE_INFINITY) return undefined;
    const path: string[] = [];
    for (let v = target; v !== -1; v = tree.previous[v]!) path.push(this.#ids[v]!);
    path.reverse();
    return { distanceMs, path, widthBps: tree.widthBps[target]! };
  }

  #require(id: string): number {
    const i = this.#index.get(id);
    if (i === undefined) throw new UnknownNodeError(id);
    return i;
  }
}

/** The frontier's order: smallest latency first, widest among equals. */
function less(a: { d: number; w: number; node: number }, b: { d: number; w: number; node: number }) {
  if (a.d !== b.d) return a.d < b.d;
  if (a.w !== b.w) return a.w > b.w;
  return a.node < b.node;
}
