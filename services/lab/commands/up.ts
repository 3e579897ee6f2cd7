// `livepath up`: the chart's workloads as local processes until Ctrl-C (services/lab/up/), and
// `livepath up test`: the chart's `helm test` against it.
import { resolve } from 'node:path';
import { Up } from '../up/index.js';
import { runTestHooks } from '../up/test-hooks.js';

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
  const results = await runTestHooks(o.state, (l) => process.stdout.write(`${l}\n`));
  for (const r of results) {
    process.stdout.write(`TEST SUITE: ${r.name}\nPhase:      ${r.message}\n`);
    if (!r.ok) process.stdout.write(`--- ${r.name} log ---\n${r.log}\n`);
  }
  if (results.length === 0) process.stdout.write('up test: the release has no test hooks\n');
  return results.length > 0 && results.every((r) => r.ok);
}
