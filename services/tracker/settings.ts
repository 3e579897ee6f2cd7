// The overlay budget of a run — root slots, fan-out limit, upload headroom and the delay model —
// in one place, so the tracker plans with it and the lab grades the tracker against a reference
// tree built under exactly the same limits.
import { hopModelOf, type HopModel } from '../core/overlay/model.js';
import type { RunPlan } from '../core/types.js';
import type { PlannerConfig } from '../core/overlay/planner.js';
import {
  CANDIDATES_PER_ROUND,
  COOLDOWN_ROUNDS,
  EDGE_SLOTS,
  HYSTERESIS_MS,
  HYSTERESIS_RATIO,
  MAX_FANOUT,
  MIN_ROOT_FED,
  ORIGIN_SLOTS,
  UPLOAD_HEADROOM,
} from './constants.js';

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

/** The planner's configuration under these settings: the tracker's, and the simulator's. */
export function plannerConfig(settings: OverlaySettings): PlannerConfig {
  return {
    model: settings.model,
    bitrateBps: settings.bitrateBps,
    headroom: settings.headroom,
    maxFanout: settings.maxFanout,
    rootShare: settings.cdnShare,
    minRootFed: settings.minRootFed,
    hysteresisMs: HYSTERESIS_MS,
    hysteresisRatio: HYSTERESIS_RATIO,
    cooldownRounds: COOLDOWN_ROUNDS,
    candidatesPerRound: CANDIDATES_PER_ROUND,
  };
}
