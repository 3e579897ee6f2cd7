// A per-run Prometheus for the local backend: writes its config under the run's output folder,
// starts the binary on a free loopback port, adds scrape targets through file-based service
// discovery while the run grows, and stops it without leaving the process behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants, openSync, closeSync, readFileSync } from 'node:fs';
import { access, mkdir, rename, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify as toYaml } from 'yaml';

// Tunables (the lab package's constants.ts belongs to the CLI; these only matter here).
/** Scrape every second: a lab run lasts minutes and chunk delays move chunk by chunk. */
const SCRAPE_INTERVAL = '1s';
/** Re-read the targets folder every second so a freshly spawned process is scraped at once. */
const TARGETS_REFRESH_INTERVAL = '1s';
/** Prometheus replays its WAL and opens the TSDB before /-/ready; on a busy 2-core host ≈1–3 s. */
const READY_TIMEOUT_MS = 30_000;
/** Poll period for /-/ready: short against the startup time, long enough not to spin. */
const READY_POLL_MS = 100;
/** SIGTERM lets Prometheus flush the head block; past this grace it gets SIGKILL. */
const STOP_GRACE_MS = 10_000;
/** A free port picked by the kernel can be taken before Prometheus binds it: retry that often. */
const PORT_RACE_RETRIES = 3;
/** Lines of Prometheus' log quoted in a start error. */
const LOG_TAIL_LINES = 15;

/** Job names of a run; the Helm chart's scrape configs use the same. */
export const SCRAPE_JOBS = ['livepath-origin', 'livepath-edge', 'livepath-peer', 'livepath-tracker'] as const;
export type ScrapeJob = (typeof SCRAPE_JOBS)[number];

export interface ScrapeTarget {
  /** host:port of a process' metrics server (path /metrics). */
  address: string;
  /** Target labels, e.g. { role: 'edge', region: 'tokyo' }. */
  labels: Record<string, string>;
}

export interface PrometheusRun {
  /** Base URL, e.g. http://127.0.0.1:40123 (the HTTP API is under /api/v1). */
  url: string;
  port: number;
  pid: number;
  configPath: string;
  /** Adds (or updates, by address) targets of a job; Prometheus picks them up within ~1 s. */
  addTargets(job: string, targets: ScrapeTarget[]): Promise<void>;
  /** Stops Prometheus and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  /** The run's output folder; Prometheus' files go to outDir/prometheus/. */
  outDir: string;
  /** Path of the prometheus binary; default: `prometheus` on PATH. */
  bin?: string;
  /** Port on 127.0.0.1; default: a free one. */
  port?: number;
}

export class PrometheusNotFoundError extends Error {
  override readonly name = 'PrometheusNotFoundError';
  constructor(readonly bin?: string) {
    super(
      bin === undefined
        ? "prometheus not found on PATH: install Debian's `prometheus` package or pass --prometheus-bin PATH"
        : `prometheus binary ${bin} does not exist or is not executable: install Debian's ` +
            '`prometheus` package or pass --prometheus-bin with the right PATH',
    );
  }
}

/** Prometheus exited or never became ready; the message quotes its log. */
export class PrometheusStartError extends Error {
  override readonly name = 'PrometheusStartError';
  constructor(
    reason: string,
    readonly logPath: string,
    readonly logTail: string,
  ) {
    super(`prometheus did not start (${reason}); its log ${logPath} ends with:\n${logTail}`);
  }
}

/** The fixed port given with `port` is taken. */
export class PrometheusPortInUseError extends Error {
  override readonly name = 'PrometheusPortInUseError';
  constructor(readonly port: number) {
    super(`prometheus port ${port} is in use: pass --prometheus-port 0 or a free port`);
  }
}

/** A job name that cannot name a targets file or a Prometheus job. */
export class InvalidScrapeJobError extends Error {
  override readonly name = 'InvalidScrapeJobError';
  constructor(readonly job: string) {
    super(`scrape job name "${job}" is not valid: use letters, digits, '_', '-' or '.', e.g. livepath-peer`);
  }
}

const JOB_NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

export async function startPrometheus(options: StartPrometheusOptions): Promise<PrometheusRun> {
  const bin = await resolveBinary(options.bin);
  const promDir = path.resolve(options.outDir, 'prometheus');
  const targetsDir = path.join(promDir, 'targets');
  const dataDir = path.join(promDir, 'data');
  const configPath = path.join(promDir, 'prometheus.yml');
  const logPath = path.join(promDir, 'prometheus.log');
  await mkdir(targetsDir, { recursive: true });
  await mkdir(dataDir, { recursive: true });
  await writeFile(configPath, renderConfig(targetsDir));

  for (let attempt = 0; ; attempt++) {
    const port = options.port ?? (await pickFreePort());
    const started = await spawnAndWaitReady({ bin, configPath, dataDir, logPath, port });
    if (started.ok) return makeRun(started.child, port, configPath, targetsDir);
    if (started.portInUse) {
      if (options.port !== undefined) throw new PrometheusPortInUseError(options.port);
      if (attempt < PORT_RACE_RETRIES) continue;
    }
    throw new PrometheusStartError(started.reason, logPath, tailOf(logPath));
  }
}

/** The prometheus.yml of a run: one scrape config, targets from targets/*.json. */
export function renderConfig(targetsDir: string): string {
  const config = {
    global: {
      scrape_interval: SCRAPE_INTERVAL,
      scrape_timeout: SCRAPE_INTERVAL,
      evaluation_interval: SCRAPE_INTERVAL,
    },
    scrape_configs: [
      {
        // Fallback job name only: each targets file sets `job` (livepath-origin, …) as a target
        // label, so new jobs need no config reload.
        job_name: 'livepath',
        // A process labels its series itself (role by default label, region per observation:
        // one peer process hosts viewers of many regions), so its labels must win over target
        // labels such as an edge's region instead of being renamed to exported_region.
        honor_labels: true,
        file_sd_configs: [{ files: [path.join(targetsDir, '*.json')], refresh_interval: TARGETS_REFRESH_INTERVAL }],
      },
    ],
  };
  return `# Written by livepath for one run; edits are overwritten by the next run.\n${toYaml(config)}`;
}

async function resolveBinary(bin: string | undefined): Promise<string> {
  const isExecutable = (p: string): Promise<boolean> =>
    access(p, fsConstants.X_OK).then(
      () => true,
      () => false,
    );
  if (bin !== undefined) {
    if (await isExecutable(bin)) return bin;
    throw new PrometheusNotFoundError(bin);
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, 'prometheus');
    if (await isExecutable(candidate)) return candidate;
  }
  throw new PrometheusNotFoundError();
}

function pickFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

type SpawnResult = { ok: true; child: ChildProcess } | { ok: false; portInUse: boolean; reason: string };

async function spawnAndWaitReady(args: {
  bin: string;
  configPath: string;
  dataDir: string;
  logPath: string;
  port: number;
}): Promise<SpawnResult> {
  const logFd = openSync(args.logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      args.bin,
      [
        `--config.file=${args.configPath}`,
        `--storage.tsdb.path=${args.dataDir}`,
        `--web.listen-address=127.0.0.1:${args.port}`,
      ],
      { stdio: ['ignore', logFd, logFd] },
    );
  } finally {
    closeSync(logFd);
  }

  let exited: string | undefined;
  const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
    exited = signal ? `killed by ${signal}` : `exited with code ${code}`;
  };
  const onError = (err: Error): void => {
    exited = `could not be spawned: ${err.message}`;
  };
  child.once('exit', onExit);
  child.once('error', onError);

  const readyUrl = `http://127.0.0.1:${args.port}/-/ready`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (exited === undefined && Date.now() < deadline) {
    try {
      const res = await fetch(readyUrl, { signal: AbortSignal.timeout(READY_POLL_MS * 10) });
      await res.arrayBuffer();
      // Another server answering on the port would not say this; Prometheus answers 503 until ready.
      if (res.ok && exited === undefined) {
        child.off('exit', onExit);
        child.off('error', onError);
        return { ok: true, child };
      }
    } catch {
      // not listening yet
    }
    await sleep(READY_POLL_MS);
  }

  if (exited === undefined) {
    await killAndWait(child);
    return { ok: false, portInUse: false, reason: `not ready after ${READY_TIMEOUT_MS / 1000} s` };
  }
  const portInUse = /address already in use/i.test(tailOf(args.logPath));
  return { ok: false, portInUse, reason: exited };
}

function makeRun(child: ChildProcess, port: number, configPath: string, targetsDir: string): PrometheusRun {
  const targetsByJob = new Map<string, Map<string, ScrapeTarget>>();
  // If the lab dies without calling stop(), its Prometheus must not outlive it.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let stopping: Promise<void> | undefined;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? -1,
    configPath,
    async addTargets(job, targets) {
      if (!JOB_NAME_PATTERN.test(job)) throw new InvalidScrapeJobError(job);
      const known = targetsByJob.get(job) ?? new Map<string, ScrapeTarget>();
      targetsByJob.set(job, known);
      for (const t of targets) known.set(t.address, t);
      const groups = [...known.values()].map((t) => ({
        targets: [t.address],
        labels: { ...t.labels, job },
      }));
      const file = path.join(targetsDir, `${job}.json`);
      // Write then rename: Prometheus watches the folder and must never read a half-written file.
      const tmp = `${file}.tmp`;
      await writeFile(tmp, `${JSON.stringify(groups, null, 2)}\n`);
      await rename(tmp, file);
    },
    stop() {
      stopping ??= killAndWait(child).finally(() => process.off('exit', killOnExit));
      return stopping;
    },
  };
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

function tailOf(logPath: string): string {
  try {
    return readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
  } catch {
    return '(no log)';
  }
}
