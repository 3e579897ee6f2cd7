// Reads a scenario file and builds its run plan: the one place a process touches the disk for it
// (services/core parses text; it reads no files).
import { readFileSync } from 'node:fs';
import { ScenarioFileError } from '../core/scenario/errors.js';
import { parseScenario } from '../core/scenario/load.js';
import { buildPlan } from '../core/scenario/plan.js';
import type { Scenario } from '../core/scenario/schema.js';
import type { RunPlan } from '../core/types.js';

/** Reads and validates a scenario file. */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new ScenarioFileError(path, reason);
  }
  return parseScenario(text, path);
}

export function loadPlan(path: string, seed?: number): RunPlan {
  return buildPlan(loadScenarioFile(path), seed === undefined ? {} : { seed });
}
