// Reads a results directory written by `livepath run --out DIR` (one mode, or cdn/ + p2p/ +
// comparison.json) into typed data, each file through its module's schema or row parser.
// chunks.csv is streamed into compact typed columns, so a 10^6-row file never exists as one
// string or as 10^6 objects.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Mode } from '../core/types.js';
import { readChunksCsv, type ChunkTable } from './chunks.js';
import { MalformedResultsFileError, NotAResultsDirError } from './errors.js';
import { readEventsCsv, type EventRow } from './events.js';
import { lineOfJsonPath, readJsonFile } from './json.js';
import { RESULTS_FILE } from './layout.js';
import { overlaySchema, type Overlay } from './overlay.js';
import { planSchema, type ResultsPlan } from './plan.js';
import { comparisonSchema, summarySchema, type Comparison, type ModeSummary } from './summary.js';

export interface ModeResults {
  mode: Mode;
  /** directory holding this mode's files */
  dir: string;
  summary: ModeSummary;
  plan: ResultsPlan;
  chunks: ChunkTable;
  events: EventRow[];
  overlay: Overlay;
}

export interface Results {
  dir: string;
  /** 'single': one mode's files directly in dir; 'both': cdn/ and p2p/ plus comparison.json */
  layout: 'single' | 'both';
  scenario: string;
  seed: number;
  /** modes present, cdn first */
  modes: ModeResults[];
  comparison?: Comparison;
}

/** Reads either layout of a results directory. Throws a ResultsError naming the bad file. */
export async function readResults(dir: string): Promise<Results> {
  const dirStat = await statOrUndefined(dir);
  if (dirStat === undefined || !dirStat.isDirectory()) {
    throw new NotAResultsDirError(dir, 'no such directory (pass the --out DIR of `livepath run`)');
  }
  if ((await isFile(join(dir, RESULTS_FILE.summary))) || (await isFile(join(dir, RESULTS_FILE.chunks)))) {
    const single = await readModeDir(dir);
    return {
      dir,
      layout: 'single',
      scenario: single.summary.scenario,
      seed: single.summary.seed,
      modes: [single],
    };
  }
  const comparisonFile = join(dir, RESULTS_FILE.comparison);
  const hasModeDir = (await isDirectory(join(dir, 'cdn'))) || (await isDirectory(join(dir, 'p2p')));
  if (!hasModeDir && !(await isFile(comparisonFile))) {
    throw new NotAResultsDirError(
      dir,
      'not a livepath results directory: expected summary.json + chunks.csv (one mode) or ' +
        'cdn/, p2p/ and comparison.json (--mode both)',
    );
  }
  const comparison = await readJsonFile(comparisonFile, comparisonSchema);
  const modes: ModeResults[] = [];
  for (const mode of (['cdn', 'p2p'] as const).filter((m) => comparison.modes.includes(m))) {
    if (comparison[mode] === undefined) {
      throw new MalformedResultsFileError(comparisonFile, `modes lists "${mode}" but there is no "${mode}" summary`);
    }
    modes.push(await readModeDir(join(dir, mode), mode));
  }
  return { dir, layout: 'both', scenario: comparison.scenario, seed: comparison.seed, modes, comparison };
}

/** Reads one mode's files (summary.json, plan.json, chunks.csv, events.csv, overlay.json). */
export async function readModeDir(dir: string, expectedMode?: Mode): Promise<ModeResults> {
  const summaryFile = join(dir, RESULTS_FILE.summary);
  const [summary, plan, overlay] = await Promise.all([
    readJsonFile(summaryFile, summarySchema),
    readPlan(join(dir, RESULTS_FILE.plan)),
    readJsonFile(join(dir, RESULTS_FILE.overlay), overlaySchema),
  ]);
  if (expectedMode !== undefined && summary.mode !== expectedMode) {
    throw new MalformedResultsFileError(
      summaryFile,
      `mode is "${summary.mode}" but the file is in the ${expectedMode}/ directory`,
    );
  }
  const viewerIds = new Set(plan.viewers.map((v) => v.id));
  // One CSV at a time: they are the large files and the machine has few cores.
  const chunks = await readChunksCsv(join(dir, RESULTS_FILE.chunks), { viewerIds });
  const events = await readEventsCsv(join(dir, RESULTS_FILE.events));
  return { mode: summary.mode, dir, summary, plan, chunks, events, overlay };
}

export async function readPlan(file: string): Promise<ResultsPlan> {
  const plan = await readJsonFile(file, planSchema);
  const seen = new Set<string>();
  for (const [i, viewer] of plan.viewers.entries()) {
    if (seen.has(viewer.id)) {
      throw new MalformedResultsFileError(
        file,
        `viewers[${i}]: viewer id "${viewer.id}" appears twice`,
        await lineOfJsonPath(file, ['viewers', i]),
      );
    }
    seen.add(viewer.id);
  }
  return plan;
}

// ---------------------------------------------------------------------------------------------

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

async function isFile(path: string): Promise<boolean> {
  return (await statOrUndefined(path))?.isFile() ?? false;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await statOrUndefined(path))?.isDirectory() ?? false;
}
