// The `livepath` command: run an experiment, validate a scenario, re-render a report, and the
// service roles (origin, edge, peers) that the lab, Mininet hosts and Kubernetes pods run.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { PACKAGE_ROOT } from '../runtime/package.js';
import { loadPlan, loadScenarioFile } from '../runtime/plan.js';
import type { Mode } from '../core/types.js';
import type { LinkShaping } from '../linkemu/emulator.js';
import { LINK_SHAPINGS } from '../linkemu/constants.js';
import { parseDirectory } from '../runtime/directory.js';
// Everything else is imported where a command needs it: a service process (eight start per run)
// then loads its own code only, not the report's charts or the Kubernetes client (~3 s of CPU each).
import type { KubernetesBackendOptions } from './backends/kubernetes/index.js';
import type { PrometheusRun } from './prometheus.js';

// grpc-js prints its own errors (e.g. "No address added") on stderr; ours say what to do instead.
if (process.env.LIVEPATH_LOG_LEVEL !== 'debug') grpc.setLogVerbosity(grpc.logVerbosity.NONE);

const PACKAGE_VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;
const DEFAULT_SCENARIO = 'world';

function positiveInt(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a non-negative integer (got "${v}")`);
    return n;
  };
}

/** A scenario argument: a path, or the name of a scenario shipped in scenarios/. */
export function resolveScenario(arg: string | undefined): string {
  const name = arg ?? DEFAULT_SCENARIO;
  if (existsSync(name)) return resolve(name);
  const shipped = join(PACKAGE_ROOT, 'scenarios', name.endsWith('.yaml') ? name : `${name}.yaml`);
  if (existsSync(shipped)) return shipped;
  throw new CliError(
    `scenario "${name}" not found: give a path to a .yaml file or the name of one in ${join(PACKAGE_ROOT, 'scenarios')}`,
  );
}

export class CliError extends Error {}

const program = new Command('livepath')
  .description(
    'Measure how close each live-stream chunk gets to its physical bound on the CDN path ' +
      '(origin → edge → viewer) and on the peer path (viewers relaying to nearby viewers). ' +
      'Start with `livepath run` (the shipped world scenario, both paths side by side).',
  )
  .version(PACKAGE_VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .configureOutput({ outputError: (s, write) => write(s) });

program
  .command('run')
  .description('run a scenario (default: the shipped world scenario) and write results + report')
  .argument('[scenario]', `scenario file, or name of a shipped one (${DEFAULT_SCENARIO}, small, metro, churn)`)
  .addOption(
    new Option('--mode <mode>', 'which path to measure: cdn, p2p, or both side by side')
      .choices(['cdn', 'p2p', 'both'])
      .default('both'),
  )
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
  .option('--install', 'kubernetes: helm install the release when it is missing')
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
      if (opts.backend === 'mininet') (await import('./backends/mininet.js')).assertRoot();
      const scenarioPath = resolveScenario(scenarioArg);
      const plan = loadPlan(scenarioPath, opts.seed);
      const modes: Mode[] = opts.mode === 'both' ? ['cdn', 'p2p'] : [opts.mode as Mode];
      const { defaultOutDir, runExperiment } = await import('./experiment.js');
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
      const progress = (await import('./progress.js')).createProgress(!opts.quiet);
      process.stderr.write(
        `livepath: ${plan.scenarioName} (seed ${plan.seed}): ${plan.viewers.length} viewers, ${plan.edges.length} edges, ${plan.durationS} s, mode ${opts.mode} → ${out}\n`,
      );
      let prometheus: PrometheusRun | undefined;
      if (opts.prometheus) {
        prometheus = await (await import('./prometheus.js')).startPrometheus({ outDir: out, bin: opts.prometheusBin });
        process.stderr.write(
          `livepath: Prometheus at ${prometheus.url} (data in ${join(resolve(out), 'prometheus')})\n`,
        );
      }
      const video = await (await import('./video.js')).prepareVideoRun(plan, {
        modes,
        record: opts.record && resolve(opts.record),
        rtmpUrl: opts.rtmpUrl,
      });
      const result = await runExperiment({
        plan,
        backend: video.wrap(
          opts.backend === 'mininet'
            ? (await import('./backends/mininet.js')).runMininet
            : opts.backend === 'kubernetes'
              ? (await import('./backends/kubernetes/index.js')).kubernetesBackend(opts as KubernetesBackendOptions)
              : (await import('./backends/local.js')).runLocal,
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
      process.stdout.write(`${(await import('./report/table.js')).formatTable(result.summaries)}\n`);
      if (!video.report(result.summaries)) process.exitCode = 1;
      process.stdout.write(`\nresults: ${result.out}\n`);
      if (result.summaries.length > 0) {
        try {
          process.stdout.write(`report:  ${await (await import('./report/render.js')).renderReport(result.out)}\n`);
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

program
  .command('sweep')
  .description(
    'run a scenario once per value of one or more scenario keys and chart offload against delay for both paths (plus the reference tree)',
  )
  .argument('<scenario>', `scenario file, or name of a shipped one (${DEFAULT_SCENARIO}, small, metro, churn)`)
  .requiredOption(
    '--set <key=values>',
    'a dotted scenario key and comma-separated values, e.g. overlay.originSlots=1,2,4,8,16 (repeat for a grid)',
    (v: string, prev: string[] = []) => [...prev, v],
  )
  .option('--out <dir>', 'sweep directory (default results/<timestamp>-sweep-<scenario>)')
  .option('--seed <n>', 'override the scenario seed', positiveInt('--seed'))
  .option('--viewers-per-host <n>', 'virtual viewers per peers process', positiveInt('--viewers-per-host'))
  .option('--quiet', 'no progress output')
  .action(
    async (
      scenarioArg: string,
      opts: { set: string[]; out?: string; seed?: number; viewersPerHost?: number; quiet?: boolean },
    ) => {
      const { parseSetting, runSweep } = await import('./commands/sweep.js');
      const scenarioPath = resolveScenario(scenarioArg);
      const settings = opts.set.map(parseSetting);
      const plan = loadPlan(scenarioPath, opts.seed);
      const { defaultOutDir } = await import('./experiment.js');
      const out = opts.out ?? defaultOutDir(`sweep-${plan.scenarioName}`, new Date());
      const abort = new AbortController();
      process.on('SIGINT', () => {
        process.stderr.write('\nlivepath: stopping the sweep after what was received…\n');
        abort.abort();
      });
      const { createProgress } = await import('./progress.js');
      let progress = createProgress(!opts.quiet);
      const sweep = await runSweep({
        scenarioPath,
        settings,
        out,
        seed: opts.seed,
        viewersPerHost: opts.viewersPerHost,
        signal: abort.signal,
        onVariant: (i, n, v, modes) => {
          progress.stop();
          progress = createProgress(!opts.quiet);
          if (!opts.quiet) process.stderr.write(`livepath sweep [${i + 1}/${n}] ${v.name} (${modes.join(' + ')})\n`);
        },
        progress: (mode, p) => progress.update(mode, p),
        onVariantDone: (r) => {
          progress.stop();
          const f = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(1));
          process.stdout.write(
            `${r.name}: p2p offload ${r.p2p ? (r.p2p.offload * 100).toFixed(1) : '–'} %, delay p50/p95 ${f(r.p2p?.delayP50Ms)} / ${f(r.p2p?.delayP95Ms)} ms` +
              ` (CDN ${f(r.cdn?.delayP50Ms)} / ${f(r.cdn?.delayP95Ms)}, reference ${f(r.reference?.delayP50Ms)} / ${f(r.reference?.delayP95Ms)})\n`,
          );
        },
      });
      progress.stop();
      const dir = resolve(out);
      process.stdout.write(`\nsweep:   ${join(dir, 'sweep.json')} (${sweep.variants.length} variants)\n`);
      process.stdout.write(`report:  ${await (await import('./report/sweep.js')).renderSweepReport(dir)}\n`);
      if (abort.signal.aborted) process.exitCode = 130;
    },
  );

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

program
  .command('dashboards')
  .description('the Grafana dashboards in grafana/')
  .command('check')
  .description("run every dashboard panel's query against a Prometheus; exit 1 when one errors or returns no series")
  .requiredOption('--prometheus <url>', 'Prometheus base URL, e.g. the one `livepath run --prometheus` prints')
  .option('--dashboards <dir>', 'folder of dashboard JSON files (default: the dashboards livepath ships)')
  .action(async (o: { prometheus: string; dashboards?: string }) => {
    const { allQueriesOk, checkDashboards, formatCheckResults } = await import('./commands/dashboards.js');
    const results = await checkDashboards({ prometheusUrl: o.prometheus, dashboardsDir: o.dashboards });
    process.stdout.write(`${formatCheckResults(results)}\n`);
    if (!allQueriesOk(results)) process.exitCode = 1;
  });

program
  .command('export')
  .description('write a scenario in another form: --format topology is the network for containernet/run_scenario.py')
  .argument('<scenario>', 'scenario file or shipped name')
  .addOption(new Option('--format <format>', 'what to write').choices(['topology']).default('topology'))
  .option('--out <file>', 'write here instead of stdout')
  .option('--seed <n>', 'override the scenario seed', positiveInt('--seed'))
  .action(async (scenarioArg: string, opts: { out?: string; seed?: number }) => {
    const scenarioPath = resolveScenario(scenarioArg);
    const { exportTopology } = await import('./backends/topology.js');
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

program
  .command('report')
  .description('re-render report.html from the files of a finished run')
  .argument('[dir]', 'results directory', 'results/latest')
  .action(async (dir: string) => {
    const written = existsSync(join(dir, 'sweep.json'))
      ? await (await import('./report/sweep.js')).renderSweepReport(dir)
      : await (await import('./report/render.js')).renderReport(dir);
    process.stdout.write(`${written}\n`);
  });

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

/** Options every service role takes. */
function serviceCommand(name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .requiredOption('--scenario <file>', 'scenario file (the same one every process of the run uses)')
    .option('--seed <n>', 'override the scenario seed', positiveInt('--seed'))
    .option('--listen <host:port>', 'gRPC listen address (port 0 = any free port)', '0.0.0.0:7000')
    .addOption(new Option('--out <dir>', 'directory for raw records').env('LIVEPATH_RESULTS_DIR'))
    .option('--proc <name>', 'name of this process in logs and raw files', name)
    .option(
      '--metrics-port <n>',
      'serve Prometheus metrics on this port (0 = any free port)',
      positiveInt('--metrics-port'),
      9464,
    )
    .option('--metrics-host <addr>', 'address the metrics server listens on (default: the host of --listen)')
    .addOption(
      new Option(
        '--control <how>',
        'stdio: driven by the lab over stdin/stdout; standalone: start now, stop on SIGTERM',
      )
        .choices(['stdio', 'standalone'])
        .default('standalone'),
    )
    .addOption(
      new Option(
        '--link-shaping <how>',
        'linkemu: latency + bandwidth in user space; delay-only: latency here, bandwidth by the kernel (htb); kernel: the network does both (netem)',
      )
        .choices(LINK_SHAPINGS)
        .default('linkemu')
        .env('LIVEPATH_LINK_SHAPING'),
    );
}

interface ServiceCliOptions {
  scenario: string;
  seed?: number;
  listen: string;
  out?: string;
  proc: string;
  control: 'stdio' | 'standalone';
  linkShaping: LinkShaping;
  metricsPort: number;
  metricsHost?: string;
}

serviceCommand(
  'origin',
  'service role: the origin with its broadcaster (synthetic, or real video over RTMP / from a file)',
)
  .option('--node <id>', "origin id in the scenario (default: the scenario's origin)")
  .addOption(
    new Option('--ingest <kind>', "broadcaster (default: the scenario's stream.source, else synthetic)").choices([
      'synthetic',
      'rtmp',
      'file',
    ]),
  )
  .option('--input <path>', 'file source: a video file or lavfi:<filtergraph>')
  .option('--rtmp-url <url>', 'rtmp source: the stream to pull (default: start nginx-rtmp here)')
  .option('--stream-key <key>', 'rtmp source: the key a broadcaster must publish with')
  .option(
    '--ingest-gate <url>',
    'rtmp source: the on_publish gate of `livepath ingest` (when the push began, for the ingest delay)',
  )
  .option('--record <dir>', 'write the chunks the origin produced to <dir>/origin.ts')
  .action(async (o: ServiceCliOptions & { ingest?: 'synthetic' | 'rtmp' | 'file' }) => {
    // --ingest is the ingest's `kind` (IngestOptions): a flag the origin silently ignored once.
    const { ingest, ...rest } = o;
    await (await import('../origin/main.js')).runOrigin({
      ...rest,
      kind: ingest,
      scenario: resolveScenario(o.scenario),
    });
  });

serviceCommand('edge', 'service role: a CDN edge')
  .requiredOption('--node <id>', 'edge id in the scenario')
  .option('--directory <list>', 'addresses of other nodes: ID=HOST:PORT,…', '')
  .action(async (o: ServiceCliOptions & { node: string; directory: string }) => {
    await (await import('../edge/main.js')).runEdge({
      ...o,
      scenario: resolveScenario(o.scenario),
      directory: parseDirectory(o.directory),
    });
  });

serviceCommand('tracker', 'service role: the tracker that assigns parents on the peer path')
  .option('--directory <list>', 'addresses of the origin and edges: ID=HOST:PORT,…', '')
  .option('--origin-slots <n>', 'viewers the origin may serve directly', positiveInt('--origin-slots'))
  .option('--edge-slots <n>', 'viewers each edge may serve directly', positiveInt('--edge-slots'))
  .action(async (o: ServiceCliOptions & { directory: string; originSlots?: number; edgeSlots?: number }) => {
    await (await import('../tracker/main.js')).runTracker({
      ...o,
      scenario: resolveScenario(o.scenario),
      directory: parseDirectory(o.directory),
    });
  });

serviceCommand('peers', 'service role: a process hosting many virtual viewers')
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
      await (await import('../peer/main.js')).runPeers({
        ...o,
        scenario: resolveScenario(o.scenario),
        directory: parseDirectory(o.directory),
        viewers: o.viewers?.split(',').filter(Boolean),
      });
    },
  );

const collect = (v: string, acc: string[]) => [...acc, v];

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
  .action(async (action: string | undefined, o: import('./commands/up.js').UpCommandOptions) => {
    const up = await import('./commands/up.js');
    if (action === 'test') {
      process.exit((await up.runUpTestCommand(o)) ? 0 : 1);
    }
    if (action !== undefined && action !== 'start')
      throw new CliError(`up: unknown action "${action}" (start or test)`);
    await up.runUpCommand(o);
  });

program
  .command('probe')
  .description(
    "check a node relays the stream: exit 0 once a chunk fragment arrives, 1 after --seconds (the chart's helm test)",
  )
  .requiredOption('--address <host:port>', 'Relay (gRPC) address of an origin, edge or peers host')
  .option('--node <ids>', 'node id(s) to subscribe to, comma-separated (default: the only node of an origin or edge)')
  .addOption(
    new Option('--scenario <file>', 'peers host: probe the viewers of slice --viewer-index of this scenario').env(
      'LIVEPATH_SCENARIO',
    ),
  )
  .option('--viewer-index <n>', 'with --scenario: the slice the host serves', positiveInt('--viewer-index'), 0)
  .addOption(
    new Option('--viewers-per-host <n>', 'with --scenario: size of a slice')
      .argParser(positiveInt('--viewers-per-host'))
      .env('LIVEPATH_VIEWERS_PER_HOST'),
  )
  .addOption(
    new Option('--seconds <n>', 'how long to wait for a fragment')
      .argParser(positiveInt('--seconds'))
      .default(10)
      .env('LIVEPATH_PROBE_SECONDS'),
  )
  .action(
    async (o: {
      address: string;
      node?: string;
      scenario?: string;
      viewerIndex: number;
      viewersPerHost?: number;
      seconds: number;
    }) => {
      const { probeNodesFromScenario, runProbe } = await import('./commands/probe.js');
      const nodes = o.node
        ? o.node.split(',').filter(Boolean)
        : o.scenario
          ? probeNodesFromScenario(resolveScenario(o.scenario), o.viewerIndex, o.viewersPerHost)
          : [];
      const r = await runProbe({ address: o.address, nodes, seconds: o.seconds });
      (r.ok ? process.stdout : process.stderr).write(`livepath probe: ${r.message}\n`);
      process.exit(r.ok ? 0 : 1);
    },
  );

program
  .command('ingest')
  .description('run nginx-rtmp (unprivileged, free port) for a broadcaster to push to, until Ctrl-C')
  .option('--port <n>', 'RTMP port (default: a free one)', positiveInt('--port'))
  .option('--host <addr>', 'address to listen on (0.0.0.0 to take OBS from another machine)', '127.0.0.1')
  .option('--stream-key <key>', 'refuse publishes with any other key')
  .action(async (o: { port?: number; host: string; streamKey?: string }) => {
    await (await import('./video.js')).runIngestCommand(o);
  });

program
  .command('play')
  .description('play what a viewer received (recorded with --record) in ffplay or mpv')
  .argument('<dir>', 'the --record directory, or a results directory holding it')
  .argument('<viewer>', 'viewer id (or "origin")')
  .addOption(new Option('--player <player>', 'which player').choices(['ffplay', 'mpv']))
  .option('--follow', 'keep playing while a running experiment writes the recording (a live viewer)')
  .option('--probe', 'print the streams and duration (ffprobe) instead of playing')
  .action(async (dir: string, viewer: string, o: { player?: 'ffplay' | 'mpv'; follow?: boolean; probe?: boolean }) => {
    await (await import('./commands/play.js')).runPlay(dir, viewer, o);
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const err = e as Error;
  process.stderr.write(`livepath: ${err.message}\n`);
  if (process.env.LIVEPATH_DEBUG) process.stderr.write(`${err.stack}\n`);
  process.exit(2);
}
