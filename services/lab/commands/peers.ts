// `livepath peers`: the service role of a process hosting many virtual viewers.
import { type Command, Option } from 'commander';
import { parseDirectory } from '../../runtime/directory.js';
import { positiveInt, resolveScenario, type ServiceCliOptions, serviceCommand } from './common.js';

export function register(program: Command): void {
  serviceCommand(program, 'peers', 'service role: a process hosting many virtual viewers')
    .option('--viewers <ids>', 'comma-separated viewer ids to host')
    .option('--viewer-index <n>', 'host the n-th slice of the scenario viewers', positiveInt('--viewer-index'))
    .option('--viewers-per-host <n>', 'size of a slice', positiveInt('--viewers-per-host'))
    .addOption(
      new Option('--mode <mode>', 'cdn: viewers pull from their edge; p2p: from parents the tracker assigns')
        .choices(['cdn', 'p2p'])
        .default('cdn'),
    )
    .option('--directory <list>', 'addresses of other nodes: ID=HOST:PORT,…', '')
    .option('--tracker <host:port>', 'tracker address (p2p mode)')
    .addOption(
      new Option('--advertise <host:port>', 'address children reach this process at (default: its listen address)').env(
        'LIVEPATH_ADVERTISE_ADDRESS',
      ),
    )
    .option(
      '--record <dir>',
      "write each viewer's received chunks, in seq order from its first keyframe, to <dir>/<viewer>.ts",
    )
    .action(
      async (
        o: ServiceCliOptions & {
          viewers?: string;
          viewerIndex?: number;
          viewersPerHost?: number;
          mode: 'cdn' | 'p2p';
          directory: string;
          tracker?: string;
          advertise?: string;
        },
      ) => {
        await (await import('../../peer/main.js')).runPeers({
          ...o,
          scenario: resolveScenario(o.scenario),
          directory: parseDirectory(o.directory),
          viewers: o.viewers?.split(',').filter(Boolean),
        });
      },
    );
}
