// A results directory: one mode's files (the names below) directly in it, or cdn/ and p2p/ each
// holding them plus comparison.json beside them (--mode both). Raw per-process files are in raw/.
import { join } from 'node:path';
import type { Mode } from '../core/types.js';

export const RESULTS_FILE = {
  chunks: 'chunks.csv',
  events: 'events.csv',
  summary: 'summary.json',
  plan: 'plan.json',
  overlay: 'overlay.json',
  comparison: 'comparison.json',
} as const;

/** Where the raw files of the services' processes are collected, and their logs. */
export const RAW_DIR = 'raw';
export const LOGS_DIR = 'logs';

/** The directory of one mode's files in the results directory `out` of a run of `modes`. */
export function modeDir(out: string, mode: Mode, modes: readonly Mode[]): string {
  return modes.length > 1 ? join(out, mode) : out;
}
