// `livepath validate <scenario>`: checks a scenario file and says what it describes, without running it.
import type { Command } from 'commander';
import { loadPlan } from '../../runtime/plan.js';
import { positiveInt, resolveScenario } from './common.js';

export function register(program: Command): void {
  program
    .command('validate')
    .description('check a scenario file without running it')
    .argument('<scenario>', 'scenario file or shipped name')
    .option('--seed <n>', 'override the scenario seed', positiveInt('--seed'))
    .action((scenarioArg: string, opts: { seed?: number }) => {
      const plan = loadPlan(resolveScenario(scenarioArg), opts.seed);
      const bounds = plan.viewers.map((v) => v.boundMs);
      process.stdout.write(
        `${plan.scenarioName}: ok — ${plan.viewers.length} viewers, ${plan.edges.length} edges, ${plan.durationS} s, ` +
          `chunk ${plan.stream.chunkBytes} B every ${plan.stream.chunkDurationUs / 1000} ms, ` +
          `${plan.stream.production} (${plan.stream.releasesPerChunk} × ${plan.stream.releaseUnitBytes} B releases), ` +
          `bound ${Math.min(...bounds).toFixed(1)}–${Math.max(...bounds).toFixed(1)} ms\n`,
      );
    });
}
