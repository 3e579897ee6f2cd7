// `livepath sim`: a scenario through the discrete-event simulator (services/sim) instead of
// processes, written as the same results directory and report as `livepath run`; `--scale`
// runs it at several audience sizes and draws the scaling chart.
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Mode, RunPlan } from '../../core/types.js';
import type { Scenario } from '../../core/scenario/schema.js';
import { buildPlan } from '../../core/scenario/plan.js';
import { loadScenarioFile } from '../../runtime/plan.js';
import { CliError, DEFAULT_SCENARIO, positiveInt, resolveScenario } from './common.js';

export function register(program: Command): void {
  program
    .command('sim')
    .description('simulate a scenario in virtual time (10^2 to 10^6 viewers) and write results + report')
    .argument('[scenario]', `scenario file, or name of a shipped one (${DEFAULT_SCENARIO}, small, metro, churn)`)
    .option('--viewers <n>', "audience size: the scenario's clusters scaled to n viewers (geo scenarios)", count)
    .addOption(
      new Option('--mode <mode>', 'which path to simulate: cdn, p2p, or both side by side')
        .choices(['cdn', 'p2p', 'both'])
        .default('both'),
    )
    .option(
      '--cities <k>',
      "viewers in the world's k most populous cities, by population (scenarios/data/world-cities.csv)",
      count,
    )
    .option('--duration <s>', "seconds of stream (default: the scenario's durationS)", count)
    .option('--scale <sizes>', 'one run per audience size (e.g. 1e2,1e3,1e4) and the scaling chart', sizes)
    .option('--out <dir>', 'results directory (default results/<timestamp>-<scenario>-sim)')
    .option('--seed <n>', 'override the scenario seed', positiveInt('--seed'))
    .addOption(
      new Option(
        '--aggregate <when>',
        'simulate only each chunk’s last release unit: auto (above 5 000 viewers), on, off',
      )
        .choices(['auto', 'on', 'off'])
        .default('auto'),
    )
    .option('--quiet', 'no progress output')
    .action(
      async (
        scenarioArg: string | undefined,
        opts: {
          viewers?: number;
          cities?: number;
          duration?: number;
          mode: string;
          scale?: number[];
          out?: string;
          seed?: number;
          aggregate: 'auto' | 'on' | 'off';
          quiet?: boolean;
        },
      ) => {
        const scenarioPath = resolveScenario(scenarioArg);
        const file = loadScenarioFile(scenarioPath);
        let scenario = opts.duration === undefined ? file : { ...file, durationS: opts.duration };
        if (opts.cities !== undefined) {
          const { readWorldCities, withCities } = await import('../sim/cities.js');
          const total = opts.viewers ?? scenario.geo?.viewers.clusters.reduce((n, c) => n + c.count, 0) ?? 0;
          scenario = withAudience(withCities(scenario, readWorldCities(), opts.cities), total);
        }
        const modes: Mode[] = opts.mode === 'both' ? ['cdn', 'p2p'] : [opts.mode as Mode];
        const aggregate = opts.aggregate === 'auto' ? undefined : opts.aggregate === 'on';
        const { defaultOutDir } = await import('../experiment.js');
        const out = opts.out ?? `${defaultOutDir(scenario.name, new Date())}-sim`;
        if (opts.scale) {
          const { runScaling } = await import('../sim/scaling.js');
          await runScaling({
            scenario,
            scenarioPath,
            sizes: opts.scale,
            modes,
            out,
            seed: opts.seed,
            aggregate,
            quiet: opts.quiet,
          });
          return;
        }
        const plan = planFor(scenario, opts.viewers, opts.seed);
        const { runSimExperiment } = await import('../sim/run.js');
        const result = await runSimExperiment({ plan, scenarioPath, modes, out, aggregate, quiet: opts.quiet });
        process.stdout.write(`${(await import('../report/table.js')).formatTable(result.summaries)}\n`);
        process.stdout.write(`\nresults: ${result.out}\n`);
        process.stdout.write(`report:  ${await (await import('../report/render.js')).renderReport(result.out)}\n`);
      },
    );
}

/** The plan of `scenario` with its audience scaled to `viewers` (geo: each cluster in proportion). */
export function planFor(scenario: Scenario, viewers: number | undefined, seed: number | undefined): RunPlan {
  return buildPlan(
    viewers === undefined ? scenario : withAudience(scenario, viewers),
    seed === undefined ? {} : { seed },
  );
}

/**
 * The scenario with `total` viewers: each geo cluster keeps its share (largest remainder, at least
 * one viewer each). Graph scenarios name their viewers one by one and cannot be scaled.
 */
export function withAudience(scenario: Scenario, total: number): Scenario {
  const geo = scenario.geo;
  if (!geo)
    throw new CliError(
      `--viewers: scenario ${scenario.name} is a graph (its viewers are nodes of the graph); use a geo scenario (world, metro, churn)`,
    );
  const clusters = geo.viewers.clusters;
  const now = clusters.reduce((s, c) => s + c.count, 0);
  const exact = clusters.map((c) => (c.count * total) / now);
  const counts = exact.map((x) => Math.max(1, Math.floor(x)));
  let left = total - counts.reduce((s, c) => s + c, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) counts[order[k]![1]]!++;
  return {
    ...scenario,
    geo: { ...geo, viewers: { ...geo.viewers, clusters: clusters.map((c, i) => ({ ...c, count: counts[i]! })) } },
  };
}

function count(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`--viewers must be a whole number ≥ 1 (got "${v}")`);
  return n;
}

function sizes(v: string): number[] {
  const list = v.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1))
    throw new InvalidArgumentError(`--scale must list audience sizes, e.g. 1e2,1e3,1e4 (got "${v}")`);
  return list;
}
