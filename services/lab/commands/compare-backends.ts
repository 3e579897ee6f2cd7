// `livepath compare-backends <scenario>`: the same scenario and seed on the local backend (linkemu
// models every link) and on mininet (the kernel's htb shapes real bytes, latency added per pair),
// then each viewer's median and p95 chunk delay side by side per path, with their ratios.
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadPlan } from '../../runtime/plan.js';
import { modeOption, modesOf, positiveInt, resolveScenario } from './common.js';

export function register(program: Command): void {
  program
    .command('compare-backends')
    .description(
      'run a scenario on the local backend and on mininet (root) and print per-viewer median and p95 delay side by side, per path',
    )
    .argument('<scenario>', 'scenario file or shipped name')
    .addOption(modeOption('which path to measure: cdn, p2p, or both'))
    .option('--out <dir>', 'results directory (default results/<timestamp>-<scenario>-backends)')
    .option('--seed <n>', 'override the scenario seed', positiveInt('--seed'))
    .option(
      '--warmup-s <s>',
      'leave out chunks made in the first <s> seconds (joining, fast start): the comparison is of steady state',
      positiveInt('--warmup-s'),
      1,
    )
    .action(async (scenarioArg: string, opts: { mode: string; out?: string; seed?: number; warmupS: number }) => {
      const { assertRoot } = await import('../backends/mininet.js');
      assertRoot();
      const scenarioPath = resolveScenario(scenarioArg);
      const plan = loadPlan(scenarioPath, opts.seed);
      const modes = modesOf(opts.mode);
      const { defaultOutDir } = await import('../experiment.js');
      const out = resolve(opts.out ?? `${defaultOutDir(plan.scenarioName, new Date())}-backends`);
      const { compareBackends } = await import('../compare-backends.js');
      process.stderr.write(
        `livepath: ${plan.scenarioName} (seed ${plan.seed}) on local, then on mininet, mode ${opts.mode} → ${out}\n`,
      );
      const result = await compareBackends({ plan, scenarioPath, modes, out, warmupS: opts.warmupS });
      process.stdout.write(`${result.table}\n\nresults: ${out} (agreement: ${join(out, 'agreement.json')})\n`);
    });
}
