// What every service process does the same way: load the plan, set up the clock, link emulator,
// logger and control channel, stop cleanly on a signal or a "stop" command, and leave its raw
// results (chunk records, events, emulation error histogram) in --out. It also owns the process'
// one metrics registry and serves it on --metrics-port once the service is ready.
import { mkdirSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import type { LinkShaping, Payload, RunPlan } from '../core/types.js';
import { loadPlan } from './plan.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from './clock.js';
import { LinkEmulator } from '../linkemu/emulator.js';
import { standaloneControl, stdioControl, type Control, type ControlCommand } from './control.js';
import { type Integrity, writeLinkemuFile } from '../results/raw.js';
import { createMetrics, startMetricsServer, type LivepathMetrics, type MetricsRole } from '../metrics/index.js';

export interface ShellOptions {
  scenario: string;
  seed?: number;
  out?: string;
  proc: string;
  control: 'stdio' | 'standalone';
  linkShaping?: LinkShaping;
  /** overrides the scenario's stream.payload (the lab passes the backend's default) */
  payload?: Payload;
  /** the service's gRPC listen address; its host is the metrics server's default host */
  listen?: string;
  /** serve /metrics on this port (0 = any free port); undefined = no metrics server */
  metricsPort?: number;
  metricsHost?: string;
  /** the origin's public key (base64): fragments are verified against it */
  originKey?: string;
}

export interface Shell {
  plan: RunPlan;
  clock: Clock;
  link: LinkEmulator;
  log: Logger;
  control: Control;
  outDir: string | undefined;
  proc: string;
  /** The process' one registry: every virtual node of the process observes into it. */
  metrics: LivepathMetrics;
  /** The integrity counters of the process (relay/integrity.ts IntegrityCounters) */
  /** what this process' adversaries did (peer/adversary.ts), written with the integrity figures */
  adversaries?: NonNullable<Integrity['adversaries']>;
  integrityCounters: {
    checked(): void;
    verified(cpuUs: number): void;
    rejected(reason: string, count?: number): void;
  };
  /** Serves the metrics (when a port was given), then reports 'ready' with both addresses. */
  ready(address: string, extra?: { originKey?: string }): Promise<void>;
  /** Registers cleanup run on stop (in reverse order). */
  onStop(fn: () => void | Promise<void>): void;
  onCommand(fn: (c: ControlCommand) => void): void;
  stop(): Promise<void>;
}

export function createShell(o: ShellOptions, role: MetricsRole): Shell {
  const log = pino({ name: o.proc, level: process.env.LIVEPATH_LOG_LEVEL ?? 'info' }, pino.destination(2));
  const plan = loadPlan(o.scenario, o.seed);
  // The plan's other properties are shared with the loaded one (latencyMs is non-enumerable).
  if (o.payload) plan.stream = { ...plan.stream, payload: o.payload };
  const clock = systemClock;
  const metrics = createMetrics({ role });
  const emulationError = metrics.emulationErrorSeconds;
  const link = new LinkEmulator(
    { plan, mechanism: o.linkShaping ?? 'linkemu' },
    { clock, onError: (s) => emulationError.observe(s) },
  );
  if (o.out) mkdirSync(o.out, { recursive: true });
  const control = o.control === 'stdio' ? stdioControl() : standaloneControl(clock.nowUs, (e) => log.info(e));
  const stops: Array<() => void | Promise<void>> = [];
  const integrity: Integrity = { checked: 0, verifications: 0, verifyCpuSeconds: 0, rejected: {} };
  let stopping: Promise<void> | undefined;
  const shell: Shell = {
    plan,
    clock,
    link,
    log,
    control,
    outDir: o.out,
    proc: o.proc,
    metrics,
    integrityCounters: {
      checked: () => {
        integrity.checked++;
      },
      verified: (cpuUs) => {
        integrity.verifications++;
        integrity.verifyCpuSeconds += cpuUs / 1e6;
        metrics.fragmentVerificationsTotal.inc();
        metrics.fragmentVerifyCpuSecondsTotal.inc(cpuUs / 1e6);
      },
      rejected: (reason, count = 1) => {
        integrity.rejected[reason] = (integrity.rejected[reason] ?? 0) + count;
        metrics.fragmentsRejectedTotal.inc({ reason }, count);
      },
    },
    ready: async (address, extra) => {
      let metricsUrl: string | undefined;
      if (o.metricsPort !== undefined) {
        const host =
          o.metricsHost ?? o.listen?.slice(0, o.listen.lastIndexOf(':')).replace(/^\[|\]$/g, '') ?? '0.0.0.0';
        const server = await startMetricsServer(metrics.registry, { host: host || '0.0.0.0', port: o.metricsPort });
        // Closed after everything else on stop: a scrape during the stop still gets an answer.
        stops.unshift(() => server.close());
        metricsUrl = server.url;
      }
      if (metricsUrl) log.info({ metricsUrl }, 'metrics served');
      control.emit({ event: 'ready', proc: o.proc, address, ...(metricsUrl && { metricsUrl }), ...extra });
    },
    onStop: (fn) => stops.push(fn),
    onCommand: (fn) => control.onCommand(fn),
    stop: () => {
      stopping ??= (async () => {
        for (const fn of stops.reverse()) {
          try {
            await fn();
          } catch (e) {
            log.error({ err: e }, 'error while stopping');
          }
        }
        link.stop();
        if (o.out) {
          const cpu = process.cpuUsage();
          writeLinkemuFile(o.out, {
            proc: o.proc,
            mechanism: link.mechanism,
            errorMs: link.errorMs.encode(),
            probeErrorMs: link.probeErrorMs.encode(),
            latenessMs: link.latenessMs.encode(),
            positionWaitMs: Object.fromEntries([...link.positionWaitMs].map(([p, r]) => [String(p), r.encode()])),
            cpuSeconds: (cpu.user + cpu.system) / 1e6,
            ...(integrity.checked > 0 && {
              integrity: { ...integrity, ...(shell.adversaries && { adversaries: shell.adversaries }) },
            }),
          });
        }
        control.emit({ event: 'done', proc: o.proc, emulationErrorMs: link.errorMs.summary() });
      })();
      return stopping;
    },
  };
  control.onCommand((c) => {
    if (c.cmd === 'stop') void shell.stop().then(() => process.exit(0));
  });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => void shell.stop().then(() => process.exit(0)));
  }
  return shell;
}
