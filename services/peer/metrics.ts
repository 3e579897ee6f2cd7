// The viewer metrics of one peers process: every completed chunk (never a fragment) is observed
// into the process' registry, labelled by path and by the viewer's region, through label children
// bound once per (path, region) so the per-chunk work is a few bucket increments.
import type { RunPlan, ViewerPlan } from '../core/types.js';
import type { LivepathMetrics, PathLabel, ReparentReason } from '../metrics/index.js';
import { isStall, type ChunkRecord } from '../results/chunks.js';
import { parseReparentDetail, type EventKind } from '../results/events.js';

const REPARENT_REASONS: readonly ReparentReason[] = ['join', 'parent-lost', 'improve'];
/** A host without a place name still needs a bounded label value. */
const UNKNOWN_REGION = 'unknown';

interface PathRegionChildren {
  delay: { observe(v: number): void };
  stretch: { observe(v: number): void };
  excess: { observe(v: number): void };
  bound: { observe(v: number): void };
  bytes: { inc(v: number): void };
  received: { inc(): void };
}

interface ViewerState {
  region: string;
  joinedAtUs: number | undefined;
  firstChunkSeen: boolean;
  active: boolean;
}

export class ViewerMetrics {
  private readonly viewers = new Map<string, ViewerState>();
  private readonly children = new Map<string, PathRegionChildren>();

  constructor(
    private readonly m: LivepathMetrics,
    plan: RunPlan,
    mine: readonly ViewerPlan[],
  ) {
    for (const v of mine) {
      const region = plan.hosts.get(v.id)?.region || UNKNOWN_REGION;
      this.viewers.set(v.id, { region, joinedAtUs: undefined, firstChunkSeen: false, active: false });
      // Exported at 0 from the start: "nobody yet" rather than no series at all.
      m.viewersActive.set({ region }, 0);
    }
    for (const reason of REPARENT_REASONS) m.reparentsTotal.inc({ reason }, 0);
    for (const path of ['cdn', 'peer'] as const) {
      m.chunksReceivedTotal.inc({ path }, 0);
      // The offload panel divides peer bytes by all bytes: on the CDN path it is 0, not "No data".
      m.deliveredBytesTotal.inc({ path }, 0);
    }
  }

  joined(viewerId: string, atUs: number): void {
    const s = this.viewers.get(viewerId);
    if (!s || s.active) return;
    s.active = true;
    s.joinedAtUs = atUs;
    s.firstChunkSeen = false;
    this.m.viewersActive.inc({ region: s.region });
  }

  left(viewerId: string): void {
    const s = this.viewers.get(viewerId);
    if (!s?.active) return;
    s.active = false;
    this.m.viewersActive.dec({ region: s.region });
  }

  chunk(r: ChunkRecord): void {
    const s = this.viewers.get(r.viewer);
    if (!s) return;
    const c = this.childrenFor(r.path, s.region);
    const delayS = r.delayMs / 1000;
    const boundS = r.boundMs / 1000;
    c.delay.observe(delayS);
    c.bound.observe(boundS);
    if (r.boundMs > 0) c.stretch.observe(r.delayMs / r.boundMs);
    c.excess.observe(delayS - boundS);
    c.bytes.inc(r.bytes);
    c.received.inc();
    if (isStall(r.delayMs)) this.m.stallsTotal.inc();
    if (!s.firstChunkSeen && s.joinedAtUs !== undefined) {
      s.firstChunkSeen = true;
      this.m.joinSeconds.observe(Math.max(0, r.receivedAtUs - s.joinedAtUs) / 1e6);
    }
  }

  /** Events of a peer-path viewer (services/peer/p2p.ts): re-parents and CDN fallbacks. */
  event(kind: EventKind, detail: string): void {
    if (kind === 'fallback') this.m.chunksLateTotal.inc();
    else if (kind === 'reparent') {
      // Only the known reasons become label values.
      const reason = parseReparentDetail(detail).reason as ReparentReason;
      if (REPARENT_REASONS.includes(reason)) this.m.reparentsTotal.inc({ reason });
    }
  }

  private childrenFor(path: PathLabel, region: string): PathRegionChildren {
    const key = `${path}\u0000${region}`;
    let c = this.children.get(key);
    if (!c) {
      const m = this.m;
      c = {
        delay: m.chunkDelaySeconds.labels({ path, region }),
        stretch: m.chunkStretchRatio.labels({ path, region }),
        excess: m.chunkExcessSeconds.labels({ path, region }),
        bound: m.chunkBoundSeconds.labels({ region }),
        bytes: m.deliveredBytesTotal.labels({ path }),
        received: m.chunksReceivedTotal.labels({ path }),
      };
      this.children.set(key, c);
    }
    return c;
  }
}
