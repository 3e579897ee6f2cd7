// `livepath sweep <scenario> --set KEY=V1,V2,…`: runs one experiment per value (per combination
// when several keys are set) and draws the trade-off an operator picks a setting from — offload
// against delay p50/p95 of both paths, one point per variant, with the reference tree's point.
// Each variant is a scenario file of its own (the original with the key set), validated like any
// scenario, so a bad key or value fails before anything runs, naming the --set it came from.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseDocument } from 'yaml';
import { ScenarioError } from '../../core/scenario/errors.js';
import { parseScenario } from '../../core/scenario/load.js';
import { buildPlan } from '../../core/scenario/plan.js';
import type { Mode, RunPlan } from '../../core/types.js';
import type { Backend } from '../backends/index.js';
import type { Summary } from '../../results/summary.js';
import { loadPlan } from '../../runtime/plan.js';
import { DEFAULT_SCENARIO, positiveInt, resolveScenario } from './common.js';

/** One `--set KEY=V1,V2,…`: a dotted scenario key and the values it takes in turn. */
export interface SweepSetting {
  key: string;
  path: Array<string | number>;
  values: unknown[];
}

/** A bad --set: the one-line message names the option and what to write instead. */
export class SweepSettingError extends Error {}

/** Parses `overlay.originSlots=1,2,4`: values are YAML scalars (numbers, booleans, words). */
export function parseSetting(arg: string): SweepSetting {
  const eq = arg.indexOf('=');
  const key = eq < 0 ? '' : arg.slice(0, eq).trim();
  if (eq < 0 || !key)
    throw new SweepSettingError(
      `--set "${arg}": write KEY=V1,V2,… with a dotted scenario key, e.g. overlay.originSlots=1,2,4`,
    );
  if (!/^[A-Za-z][\w]*(\.([A-Za-z][\w]*|\d+))*$/.test(key))
    throw new SweepSettingError(
      `--set "${arg}": "${key}" is not a dotted scenario key (e.g. stream.chunkDurationMs, geo.viewers.clusters.0.count)`,
    );
  const raw = arg
    .slice(eq + 1)
    .split(',')
    .map((v) => v.trim());
  if (raw.some((v) => v === ''))
    throw new SweepSettingError(
      `--set ${key}: empty value in "${arg.slice(eq + 1)}" — give comma-separated values, e.g. ${key}=1,2,4`,
    );
  const values = raw.map((v) => parseDocument(v).toJS() as unknown);
  if (new Set(raw).size !== raw.length) throw new SweepSettingError(`--set ${key}: a value is listed twice`);
  return { key, path: key.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)), values };
}

export interface Variant {
  /** directory name and label, e.g. "originSlots=4" or "originSlots=4,edgeSlots=1" */
  name: string;
  settings: Record<string, unknown>;
  /** the scenario text with the settings applied */
  text: string;
  plan: RunPlan;
}

/**
 * Every combination of the settings applied to the scenario, each validated: a key the schema
 * does not know or a value it refuses fails here, with the scenario's own message.
 */
export function expandVariants(
  scenarioText: string,
  scenarioPath: string,
  settings: SweepSetting[],
  seed?: number,
): Variant[] {
  let combos: Array<Record<string, unknown>> = [{}];
  for (const s of settings) combos = combos.flatMap((c) => s.values.map((v) => ({ ...c, [s.key]: v })));
  return combos.map((combo) => {
    const doc = parseDocument(scenarioText);
    for (const s of settings) {
      try {
        doc.setIn(s.path, combo[s.key]);
      } catch {
        throw new SweepSettingError(
          `--set ${s.key}: ${s.path.slice(0, -1).join('.')} is a value, not a section with keys`,
        );
      }
    }
    const text = doc.toString();
    const name = settings.map((s) => `${s.path[s.path.length - 1]}=${String(combo[s.key])}`).join(',');
    try {
      const scenario = parseScenario(text, `${basename(scenarioPath)} with --set ${name}`);
      return { name, settings: combo, text, plan: buildPlan(scenario, seed === undefined ? {} : { seed }) };
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      const problems = e.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
      const given = settings.map((s) => `${s.key}=${String(combo[s.key])}`).join(' --set ');
      throw new SweepSettingError(`--set ${given}: ${problems.join('; ')}`);
    }
  });
}

/** What a sweep writes to sweep.json and draws: one point per variant and path. */
export interface SweepPoint {
  offload: number;
  delayP50Ms: number | null;
  delayP95Ms: number | null;
  lostChunks?: number;
}

export interface SweepVariantResult {
  name: string;
  settings: Record<string, unknown>;
  dir: string;
  cdn?: SweepPoint & { from: string };
  p2p?: SweepPoint & { plannerGap?: { p50: number; p95: number } };
  reference?: SweepPoint;
}

export interface SweepResult {
  scenario: string;
  seed: number;
  sets: Array<{ key: string; values: unknown[] }>;
  variants: SweepVariantResult[];
}

export interface SweepOptions {
  scenarioPath: string;
  settings: SweepSetting[];
  out: string;
  seed?: number;
  backend?: Backend;
  viewersPerHost?: number;
  signal?: AbortSignal;
  /** told before each variant and of each mode's progress */
  onVariant?: (index: number, count: number, v: Variant, modes: Mode[]) => void;
  progress?: (mode: Mode, p: { produced: number; total: number; received: number }) => void;
  onVariantDone?: (r: SweepVariantResult) => void;
}

/**
 * Runs every variant. Keys under `overlay.` only change the peer path, so the CDN path runs once
 * (with the first variant) and its point stands for every variant; other keys run both modes each.
 */
export async function runSweep(o: SweepOptions): Promise<SweepResult> {
  const text = readFileSync(o.scenarioPath, 'utf8');
  const variants = expandVariants(text, o.scenarioPath, o.settings, o.seed);
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  const cdnOnce = o.settings.every((s) => s.key.startsWith('overlay.'));
  const { runExperiment } = await import('../experiment.js');
  const results: SweepVariantResult[] = [];
  let sharedCdn: SweepVariantResult['cdn'];
  for (const [i, v] of variants.entries()) {
    if (o.signal?.aborted) break;
    const dir = join(out, v.name.replace(/[^\w.,=-]/g, '_'));
    mkdirSync(dir, { recursive: true });
    const scenarioPath = join(dir, 'scenario.yaml');
    writeFileSync(scenarioPath, v.text);
    const modes: Mode[] = cdnOnce && sharedCdn ? ['p2p'] : ['cdn', 'p2p'];
    o.onVariant?.(i, variants.length, v, modes);
    const r = await runExperiment({
      plan: v.plan,
      scenarioPath,
      modes,
      out: dir,
      backend: o.backend,
      viewersPerHost: o.viewersPerHost,
      signal: o.signal,
      progress: o.progress,
    });
    const cdn = r.summaries.find((s) => s.mode === 'cdn');
    const p2p = r.summaries.find((s) => s.mode === 'p2p');
    if (cdn) sharedCdn = { ...point(cdn), from: v.name };
    const result: SweepVariantResult = {
      name: v.name,
      settings: v.settings,
      dir: basename(dir),
      ...((cdn || cdnOnce) && sharedCdn && { cdn: cdn ? { ...point(cdn), from: v.name } : sharedCdn }),
      ...(p2p && { p2p: { ...point(p2p), ...(p2p.plannerGap && { plannerGap: p2p.plannerGap }) } }),
      ...(p2p?.reference && {
        reference: {
          offload: p2p.reference.offload ?? 0,
          delayP50Ms: p2p.reference.delayMs.p50,
          delayP95Ms: p2p.reference.delayMs.p95,
        },
      }),
    };
    results.push(result);
    o.onVariantDone?.(result);
    try {
      await (await import('../report/render.js')).renderReport(dir);
    } catch {
      // the variant's own report is a convenience: the sweep's report is drawn from sweep.json
    }
  }
  const plan = variants[0]!.plan;
  const sweep: SweepResult = {
    scenario: plan.scenarioName,
    seed: plan.seed,
    sets: o.settings.map((s) => ({ key: s.key, values: s.values })),
    variants: results,
  };
  writeFileSync(join(out, 'sweep.json'), `${JSON.stringify(sweep, null, 2)}\n`);
  return sweep;
}

function point(s: Summary): SweepPoint {
  return { offload: s.offload, delayP50Ms: s.delayMs.all.p50, delayP95Ms: s.delayMs.all.p95, lostChunks: s.lostChunks };
}

export function register(program: Command): void {
  program
    .command('sweep')
    .description(
      'run a scenario once per value of one or more scenario keys and chart offload against delay for both paths (plus the reference tree)',
    )
    .argument('<scenario>', `scenario file, or name of a shipped one (${DEFAULT_SCENARIO}, small, metro, churn)`)
    .requiredOption(
      '--set <key=values>',
      'a dotted scenario key and comma-separated values, e.g. overlay.originSlots=1,2,4,8,16 (repeat for a grid)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--out <dir>', 'sweep directory (default results/<timestamp>-sweep-<scenario>)')
    .option('--seed <n>', 'override the scenario seed', positiveInt('--seed'))
    .option('--viewers-per-host <n>', 'virtual viewers per peers process', positiveInt('--viewers-per-host'))
    .option('--quiet', 'no progress output')
    .action(
      async (
        scenarioArg: string,
        opts: { set: string[]; out?: string; seed?: number; viewersPerHost?: number; quiet?: boolean },
      ) => {
        const scenarioPath = resolveScenario(scenarioArg);
        const settings = opts.set.map(parseSetting);
        const plan = loadPlan(scenarioPath, opts.seed);
        const { defaultOutDir } = await import('../experiment.js');
        const out = opts.out ?? defaultOutDir(`sweep-${plan.scenarioName}`, new Date());
        const abort = new AbortController();
        process.on('SIGINT', () => {
          process.stderr.write('\nlivepath: stopping the sweep after what was received…\n');
          abort.abort();
        });
        const { createProgress } = await import('../progress.js');
        let progress = createProgress(!opts.quiet);
        const sweep = await runSweep({
          scenarioPath,
          settings,
          out,
          seed: opts.seed,
          viewersPerHost: opts.viewersPerHost,
          signal: abort.signal,
          onVariant: (i, n, v, modes) => {
            progress.stop();
            progress = createProgress(!opts.quiet);
            if (!opts.quiet) process.stderr.write(`livepath sweep [${i + 1}/${n}] ${v.name} (${modes.join(' + ')})\n`);
          },
          progress: (mode, p) => progress.update(mode, p),
          onVariantDone: (r) => {
            progress.stop();
            const f = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(1));
            process.stdout.write(
              `${r.name}: p2p offload ${r.p2p ? (r.p2p.offload * 100).toFixed(1) : '–'} %, delay p50/p95 ${f(r.p2p?.delayP50Ms)} / ${f(r.p2p?.delayP95Ms)} ms` +
                ` (CDN ${f(r.cdn?.delayP50Ms)} / ${f(r.cdn?.delayP95Ms)}, reference ${f(r.reference?.delayP50Ms)} / ${f(r.reference?.delayP95Ms)})\n`,
            );
          },
        });
        progress.stop();
        const dir = resolve(out);
        process.stdout.write(`\nsweep:   ${join(dir, 'sweep.json')} (${sweep.variants.length} variants)\n`);
        process.stdout.write(`report:  ${await (await import('../report/sweep.js')).renderSweepReport(dir)}\n`);
        if (abort.signal.aborted) process.exitCode = 130;
      },
    );
}
