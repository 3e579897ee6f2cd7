// `livepath tracker`: the service role of the tracker that assigns parents on the peer path.
import type { Command } from 'commander';
import { parseDirectory } from '../../runtime/directory.js';
import { positiveInt, resolveScenario, type ServiceCliOptions, serviceCommand } from './common.js';

export function register(program: Command): void {
  serviceCommand(program, 'tracker', 'service role: the tracker that assigns parents on the peer path')
    .option('--directory <list>', 'addresses of the origin and edges: ID=HOST:PORT,…', '')
    .option('--origin-slots <n>', 'viewers the origin may serve directly', positiveInt('--origin-slots'))
    .option('--edge-slots <n>', 'viewers each edge may serve directly', positiveInt('--edge-slots'))
    .action(async (o: ServiceCliOptions & { directory: string; originSlots?: number; edgeSlots?: number }) => {
      await (await import('../../tracker/main.js')).runTracker({
        ...o,
        scenario: resolveScenario(o.scenario),
        directory: parseDirectory(o.directory),
      });
    });
}
