// The overlay budget of a run — root slots, fan-out limit, upload headroom and the delay model —
// in one place, so the tracker plans with it and the lab grades the tracker against a reference
// tree built under exactly the same limits.
import { hopModelOf, type HopModel } from '../core/overlay/model.js';
import type { RunPlan } from '../core/types.js';
import { EDGE_SLOTS, MAX_FANOUT, MIN_ROOT_FED, ORIGIN_SLOTS, UPLOAD_HEADROOM } from './constants.js';

export interface OverlaySettings {
  originSlots: number;
  edgeSlots: number;
  maxFanout: number;
  /** roots together serve at most this share of the viewers (undefined: their slots only) */
  cdnShare: number | undefined;
  /** with a share, the roots may feed at least this many viewers however few have arrived */
  minRootFed: number;
  headroom: number;
  bitrateBps: number;
  model: HopModel;
}

/** The scenario's `overlay:` section over the tracker's defaults; explicit overrides (CLI flags) win. */
export function overlaySettings(plan: RunPlan, overrides: { originSlots?: number; edgeSlots?: number } = {}) {
  return {
    originSlots: overrides.originSlots ?? plan.overlay.originSlots ?? ORIGIN_SLOTS,
    edgeSlots: overrides.edgeSlots ?? plan.overlay.edgeSlots ?? EDGE_SLOTS,
    maxFanout: plan.overlay.maxFanout ?? MAX_FANOUT,
    cdnShare: plan.overlay.cdnShare,
    minRootFed: MIN_ROOT_FED,
    headroom: UPLOAD_HEADROOM,
    bitrateBps: plan.stream.bitrateBps,
    model: hopModelOf(plan.stream),
  } satisfies OverlaySettings;
}
