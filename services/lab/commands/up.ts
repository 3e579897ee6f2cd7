// `livepath up`: the chart's workloads as local processes until Ctrl-C (services/lab/up/), and
// `livepath up test`: the chart's `helm test` against it.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError, positiveInt } from './common.js';

export interface UpCommandOptions {
  values: string[];
  set: string[];
  setFile: string[];
  release: string;
  namespace: string;
  state: string;
  chart?: string;
  helm?: string;
  orderSeed?: number;
  staggerMs?: number;
  restartBackoff?: number;
  readyTimeout: number;
  livepathImage?: string;
}

export async function runUpCommand(o: UpCommandOptions): Promise<void> {
  const { Up } = await import('../up/index.js');
  const up = await Up.start({
    release: o.release,
    namespace: o.namespace,
    chart: o.chart && resolve(o.chart),
    values: o.values.map((f) => resolve(f)),
    set: o.set,
    setFile: o.setFile,
    helm: o.helm,
    stateDir: o.state,
    orderSeed: o.orderSeed,
    staggerMs: o.staggerMs,
    restartBackoffMs: o.restartBackoff === undefined ? undefined : o.restartBackoff * 1000,
    livepathImage: o.livepathImage,
  });
  let stopping: Promise<void> | undefined;
  const stop = (why: string) => {
    stopping ??= (async () => {
      process.stdout.write(`up: ${why}: stopping every pod…\n`);
      await up.stop();
      process.stdout.write('up: stopped\n');
    })();
    return stopping;
  };
  process.on('SIGINT', () => void stop('interrupted').then(() => process.exit(130)));
  process.on('SIGTERM', () => void stop('terminated').then(() => process.exit(143)));
  const state = resolve(o.state);
  try {
    await up.waitReady(o.readyTimeout * 1000);
    process.stdout.write(
      `up: every pod is ready. Try \`livepath up test --state ${state}\` (helm test); pods' logs are in ${state}/pods/*/logs; Ctrl-C stops them.\n`,
    );
  } catch (e) {
    process.stdout.write(`up: ${(e as Error).message}\n`);
  }
  // Runs until a signal: the pods stay up, restarted when they exit, as on a cluster.
  await new Promise(() => undefined);
}

export async function runUpTestCommand(o: { state: string }): Promise<boolean> {
  const { runTestHooks } = await import('../up/test-hooks.js');
  const results = await runTestHooks(o.state, (l) => process.stdout.write(`${l}\n`));
  for (const r of results) {
    process.stdout.write(`TEST SUITE: ${r.name}\nPhase:      ${r.message}\n`);
    if (!r.ok) process.stdout.write(`--- ${r.name} log ---\n${r.log}\n`);
  }
  if (results.length === 0) process.stdout.write('up test: the release has no test hooks\n');
  return results.length > 0 && results.every((r) => r.ok);
}

const collect = (v: string, acc: string[]) => [...acc, v];

export function register(program: Command): void {
  program
    .command('up')
    .description(
      "run the Helm chart's workloads as local processes, as `helm install` deploys them (exact args and env, " +
        'Service names on loopback, readiness probes, restarts), until Ctrl-C; `livepath up test` runs its `helm test`',
    )
    .argument('[action]', "start (default), or test: run the chart's test hooks against the running `up` in --state")
    .option('-f, --values <file>', 'values file (repeatable), as for helm', collect, [])
    .option('--set <key=value>', 'set a value (repeatable), as for helm', collect, [])
    .option(
      '--set-file <key=path>',
      "set a value from a file's content (repeatable), e.g. scenarioFile=scenarios/world.yaml",
      collect,
      [],
    )
    .option('--release <name>', 'release name', 'livepath')
    .option('-n, --namespace <ns>', 'namespace the chart is rendered for', 'livepath')
    .option('--state <dir>', 'where pods keep their volumes and logs, and up.json is written', '.livepath-up')
    .option('--chart <dir>', 'chart directory (default: the chart livepath ships)')
    .option('--helm <path>', 'helm binary (default: the one bundled with a checkout, else helm on PATH)')
    .option(
      '--order-seed <n>',
      'seed of the shuffled start order (default: random, printed)',
      positiveInt('--order-seed'),
    )
    .option('--stagger-ms <n>', 'pause between two pod starts', positiveInt('--stagger-ms'))
    .option(
      '--restart-backoff <s>',
      "a crashed container's first restart delay (the kubelet's: 10)",
      positiveInt('--restart-backoff'),
    )
    .option(
      '--ready-timeout <s>',
      'how long to wait for every pod to be ready before saying which are not',
      positiveInt('--ready-timeout'),
      300,
    )
    .option('--livepath-image <repository>', 'repository of the livepath image, when it does not end in /livepath')
    .action(async (action: string | undefined, o: UpCommandOptions) => {
      if (action === 'test') {
        process.exit((await runUpTestCommand(o)) ? 0 : 1);
      }
      if (action !== undefined && action !== 'start')
        throw new CliError(`up: unknown action "${action}" (start or test)`);
      await runUpCommand(o);
    });
}
