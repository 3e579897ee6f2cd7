// `livepath export --format topology <scenario>`: the scenario's network as JSON for
// containernet/run_scenario.py (the mapping itself is backends/topology.ts, which the mininet
// backend uses too).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { loadPlan, loadScenarioFile } from '../../runtime/plan.js';
import { positiveInt, resolveScenario } from './common.js';

export function register(program: Command): void {
  program
    .command('export')
    .description('write a scenario in another form: --format topology is the network for containernet/run_scenario.py')
    .argument('<scenario>', 'scenario file or shipped name')
    .addOption(new Option('--format <format>', 'what to write').choices(['topology']).default('topology'))
    .option('--out <file>', 'write here instead of stdout')
    .option('--seed <n>', 'override the scenario seed', positiveInt('--seed'))
    .action(async (scenarioArg: string, opts: { out?: string; seed?: number }) => {
      const scenarioPath = resolveScenario(scenarioArg);
      const { exportTopology } = await import('../backends/topology.js');
      const json = `${JSON.stringify(
        exportTopology(loadScenarioFile(scenarioPath), loadPlan(scenarioPath, opts.seed), { scenarioPath }),
        null,
        2,
      )}\n`;
      if (opts.out) {
        mkdirSync(dirname(resolve(opts.out)), { recursive: true });
        writeFileSync(opts.out, json);
      } else process.stdout.write(json);
    });
}
