// `livepath edge`: the service role of a CDN edge.
import type { Command } from 'commander';
import { parseDirectory } from '../../runtime/directory.js';
import { resolveScenario, type ServiceCliOptions, serviceCommand } from './common.js';

export function register(program: Command): void {
  serviceCommand(program, 'edge', 'service role: a CDN edge')
    .requiredOption('--node <id>', 'edge id in the scenario')
    .option('--directory <list>', 'addresses of other nodes: ID=HOST:PORT,…', '')
    .action(async (o: ServiceCliOptions & { node: string; directory: string }) => {
      await (await import('../../edge/main.js')).runEdge({
        ...o,
        scenario: resolveScenario(o.scenario),
        directory: parseDirectory(o.directory),
      });
    });
}
