// `livepath run`: a scenario through one or both paths on a backend, then the table, the
// results directory and the report. Each part is imported when the run needs it.
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { loadPlan } from '../../runtime/plan.js';
import type { BackendName } from '../backends/index.js';
import type { KubernetesBackendOptions } from '../backends/kubernetes/index.js';
import type { PrometheusRun } from '../prometheus.js';
import { DEFAULT_SCENARIO, modeOption, modesOf, positiveInt, resolveScenario } from './common.js';

export function register(program: Command): void {
  program
    .command('run')
    .description('run a scenario (default: the shipped world scenario) and write results + report')
    .argument('[scenario]', `scenario file, or name of a shipped one (${DEFAULT_SCENARIO}, small, metro, churn)`)
    .addOption(modeOption('which path to measure: cdn, p2p, or both side by side'))
    .option('--out <dir>', 'results directory (default results/<timestamp>-<scenario>, linked as results/latest)')
    .option('--seed <n>', 'override the scenario seed', positiveInt('--seed'))
    .addOption(
      new Option('--backend <backend>', 'where the services run')
        .choices(['local', 'mininet', 'kubernetes'])
        .default('local'),
    )
    .option('--context <name>', 'kubernetes: kubeconfig context (default: the current one)')
    .option('--namespace <ns>', "kubernetes: namespace of the release (default: the context's)")
    .option('--release <name>', 'kubernetes: Helm release name', 'livepath')
    .option('--install', 'kubernetes: helm install the release when it is missing (with this scenario)')
    .option(
      '--image <repository:tag>',
      "kubernetes, with --install: the livepath image the release runs (default: the chart's, livepath:<version>)",
    )
    .option('--viewers-per-host <n>', 'virtual viewers per peers process', positiveInt('--viewers-per-host'))
    .option('--quiet', 'no progress output')
    .option(
      '--record <dir>',
      'write what each viewer (and the origin) received as <dir>/<viewer>.ts (real-video scenarios)',
    )
    .option(
      '--rtmp-url <url>',
      'rtmp source: pull from this ingest (e.g. one `livepath ingest` started) instead of starting nginx',
    )
    .option('--prometheus', 'start a Prometheus for the run that scrapes every process (data in <out>/prometheus/)')
    .option('--prometheus-bin <path>', 'the prometheus binary (default: prometheus on PATH)')
    .option(
      '--prometheus-keep <s>',
      'keep Prometheus up this many seconds after the run, to look at it',
      positiveInt('--prometheus-keep'),
      0,
    )
    .action(
      async (
        scenarioArg: string | undefined,
        opts: {
          mode: string;
          out?: string;
          seed?: number;
          backend: string;
          viewersPerHost?: number;
          quiet?: boolean;
          record?: string;
          rtmpUrl?: string;
          prometheus?: boolean;
          prometheusBin?: string;
          prometheusKeep: number;
        },
      ) => {
        if (opts.backend === 'mininet') (await import('../backends/mininet.js')).assertRoot();
        const scenarioPath = resolveScenario(scenarioArg);
        const plan = loadPlan(scenarioPath, opts.seed);
        const modes = modesOf(opts.mode);
        const { defaultOutDir, runExperiment } = await import('../experiment.js');
        const out = opts.out ?? defaultOutDir(plan.scenarioName, new Date());
        const abort = new AbortController();
        let interrupts = 0;
        process.on('SIGINT', () => {
          interrupts++;
          if (interrupts === 1) {
            process.stderr.write('\nlivepath: stopping (Ctrl-C again to force); keeping what was received…\n');
            abort.abort();
          } else process.exit(130);
        });
        const progress = (await import('../progress.js')).createProgress(!opts.quiet);
        process.stderr.write(
          `livepath: ${plan.scenarioName} (seed ${plan.seed}): ${plan.viewers.length} viewers, ${plan.edges.length} edges, ${plan.durationS} s, mode ${opts.mode} → ${out}\n`,
        );
        let prometheus: PrometheusRun | undefined;
        if (opts.prometheus) {
          prometheus = await (await import('../prometheus.js')).startPrometheus({
            outDir: out,
            bin: opts.prometheusBin,
          });
          process.stderr.write(
            `livepath: Prometheus at ${prometheus.url} (data in ${join(resolve(out), 'prometheus')})\n`,
          );
        }
        const video = await (await import('../video.js')).prepareVideoRun(plan, {
          modes,
          record: opts.record && resolve(opts.record),
          rtmpUrl: opts.rtmpUrl,
        });
        const result = await runExperiment({
          plan,
          backend: video.wrap(
            await (await import('../backends/index.js')).loadBackend(
              opts.backend as BackendName,
              opts as KubernetesBackendOptions,
            ),
          ),
          scenarioPath,
          modes,
          out,
          viewersPerHost: opts.viewersPerHost,
          signal: abort.signal,
          progress: (mode, p) => progress.update(mode, p),
          prometheus,
        })
          .catch(async (e: unknown) => {
            await prometheus?.stop();
            throw e;
          })
          .finally(() => video.stop());
        progress.stop();
        process.stdout.write(`${(await import('../report/table.js')).formatTable(result.summaries)}\n`);
        if (!video.report(result.summaries)) process.exitCode = 1;
        process.stdout.write(`\nresults: ${result.out}\n`);
        if (result.summaries.length > 0) {
          try {
            process.stdout.write(`report:  ${await (await import('../report/render.js')).renderReport(result.out)}\n`);
          } catch (e) {
            process.stderr.write(
              `livepath: the results are complete but the report could not be drawn: ${(e as Error).message}\n`,
            );
          }
        }
        if (prometheus) {
          await keepPrometheus(prometheus, opts.prometheusKeep, abort.signal);
          await prometheus.stop();
        }
        if (abort.signal.aborted) process.exitCode = 130;
      },
    );
}

/** --prometheus-keep: the run is over, its Prometheus stays up for a user to look (Ctrl-C ends it). */
async function keepPrometheus(prometheus: PrometheusRun, seconds: number, signal: AbortSignal): Promise<void> {
  if (seconds <= 0 || signal.aborted) return;
  process.stderr.write(`livepath: Prometheus stays up at ${prometheus.url} for ${seconds} s (Ctrl-C to stop it)\n`);
  await new Promise<void>((done) => {
    const timer = setTimeout(done, seconds * 1000);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        done();
      },
      { once: true },
    );
  });
}
