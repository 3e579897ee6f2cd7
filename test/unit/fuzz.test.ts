// A seeded subset of the bad-input properties (bench/fuzz.ts): arbitrary fragments at a verifying
// relay node, arbitrary scenarios.
// `npm run bench fuzz` runs the full count; LIVEPATH_FUZZ_RUNS sets this one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { fuzzFragments, fuzzScenarioLoader } from '../../bench/fuzz.js';
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
