// A seeded subset of the bad-input properties (bench/fuzz.ts): every RPC of Relay and Tracker with
// arbitrary fields and raw frames, arbitrary fragments at a verifying relay node, arbitrary scenarios.
// `npm run bench fuzz` runs the full count; LIVEPATH_FUZZ_RUNS sets this one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { fuzzFragments, fuzzRpcs, fuzzScenarioLoader } from '../../bench/fuzz.js';
import { ROOT } from '../helpers/cli.js';

const RUNS = Number(process.env.LIVEPATH_FUZZ_RUNS ?? 300);
const SEED = 16;

test('the scenario loader: arbitrary text and YAML give a ScenarioError, never a crash', () => {
  const base = parse(readFileSync(join(ROOT, 'scenarios', 'small.yaml'), 'utf8')) as object;
  fuzzScenarioLoader(RUNS, SEED, base);
});

test('a verifying relay node refuses arbitrary fragments and never throws', () => {
  fuzzFragments(RUNS, SEED);
});

test('Relay and Tracker RPCs: arbitrary fields and raw frames get a status, and the server keeps serving', async () => {
  // Once a Join claiming the origin's id looped the tracker's planner (now INVALID_ARGUMENT).
  await fuzzRpcs(RUNS, SEED);
});
