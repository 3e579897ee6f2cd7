// Reads a scenario file and builds its run plan: the one place a service touches the disk for it.
import type { RunPlan } from '../core/types.js';
import { loadScenarioFile } from '../core/scenario/load.js';
import { buildPlan } from '../core/scenario/plan.js';

export function loadPlan(path: string, seed?: number): RunPlan {
  return buildPlan(loadScenarioFile(path), seed === undefined ? {} : { seed });
}
