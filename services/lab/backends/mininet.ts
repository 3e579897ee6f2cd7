// The mininet backend: containernet/run_scenario.py builds the scenario's network (one namespace
// per host, Linux bridges, TCLink with htb bandwidth, netem delay where the kernel has it) and
// this module runs the services inside those hosts with `mnexec -a <pid>`, then always tears down.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { jsonLine, onJsonLines } from '../../runtime/control.js';
import { packageFile } from '../../runtime/package.js';
import { loadScenarioFile } from '../../runtime/plan.js';
import type { LinkShaping, Payload } from '../../core/types.js';
import { exportTopology, mininetPayload, type Topology } from './topology.js';
import type { BackendRunOptions, ProcSpec, RawRunInfo } from './index.js';
import { runOnPlacement, type Placement } from './placement.js';

export const RUN_SCENARIO_PY = packageFile('containernet', 'run_scenario.py');
/** Debian's mininet is importable from the system Python only (another python3 may be first on PATH). */
export const MININET_PYTHON = process.env.LIVEPATH_MININET_PYTHON ?? '/usr/bin/python3';
/** Building a network of a few dozen veths and htb qdiscs takes seconds; more means it is stuck. */
const NETWORK_READY_TIMEOUT_MS = 60_000;
/** …plus this per host: Mininet builds hosts, veths and htb classes one after another. */
const NETWORK_READY_PER_HOST_MS = 1_000;
/** run_scenario.py kills the hosts' processes (5 s grace) and deletes every link: give it room. */
const TEARDOWN_TIMEOUT_MS = 30_000;
/**
 * One host and one process per viewer: beyond this a 2-core machine measures itself, not the
 * network (README, "Mininet scale"). LIVEPATH_MININET_MAX_VIEWERS raises it, e.g. to measure anew.
 */
export const MAX_MININET_VIEWERS = 32;
const maxViewers = () => Number(process.env.LIVEPATH_MININET_MAX_VIEWERS) || MAX_MININET_VIEWERS;

export class MininetBackendError extends Error {}

export interface MininetHost {
  name: string;
  pid: number;
  ip: string;
  intf: string;
}

export interface InterfaceCounters {
  intf: string;
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
}

/** What the backend leaves next to summary.json: the network it ran on and the bytes it carried. */
export interface MininetRecord {
  netem: boolean;
  docker: boolean;
  /** what the kernel can do here: 'kernel' (netem + htb) or 'delay-only' (htb only) */
  kernelShaping: LinkShaping;
  /** what the services were told to do (see chooseLinkShaping) */
  linkShaping: LinkShaping;
  hosts: Record<string, MininetHost>;
  counters: Record<string, InterfaceCounters>;
}

type PyEvent =
  | { event: 'ready'; netem: boolean; docker: boolean; linkShaping: LinkShaping; hosts: Record<string, MininetHost> }
  | { event: 'counters'; hosts: Record<string, InterfaceCounters> }
  | { event: 'stopped' };

/** The running network: the Python process that owns it, spoken to over JSON lines. */
class MininetNetwork {
  private readonly waiters: Array<(e: PyEvent) => boolean> = [];
  readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((r) => child.on('exit', (code) => r(code)));
    onJsonLines<PyEvent>(child.stdout!, (e) => {
      for (let i = 0; i < this.waiters.length; i++) if (this.waiters[i]!(e)) this.waiters.splice(i--, 1);
    });
  }

  static start(topologyPath: string, logPath: string): MininetNetwork {
    // Its own process group: a Ctrl-C in the terminal reaches the lab, which then tears down in
    // order (services first, then the network), instead of killing the network under the services.
    const child = spawn(MININET_PYTHON, [RUN_SCENARIO_PY, topologyPath, '--control', 'stdio'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    child.stderr!.pipe(createWriteStream(logPath));
    child.stdin!.on('error', () => undefined);
    return new MininetNetwork(child);
  }

  next<K extends PyEvent['event']>(
    event: K,
    timeoutMs: number,
    logPath: string,
  ): Promise<Extract<PyEvent, { event: K }>> {
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new MininetBackendError(
              `the Mininet network did not answer "${event}" within ${timeoutMs / 1000} s; see ${logPath}`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.push((e) => {
        if (e.event !== event) return false;
        clearTimeout(timer);
        resolvePromise(e as Extract<PyEvent, { event: K }>);
        return true;
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new MininetBackendError(`the Mininet network exited (code ${code}) before "${event}"; see ${logPath}`));
      });
    });
  }

  send(cmd: object): void {
    if (this.child.stdin!.writable) this.child.stdin!.write(jsonLine(cmd));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Asks for teardown and waits for it; kills and runs `--cleanup` if the script hangs. */
  async stop(topologyPath: string): Promise<void> {
    if (this.running) {
      this.send({ cmd: 'stop' });
      this.child.stdin!.end();
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), TEARDOWN_TIMEOUT_MS).unref());
      if ((await Promise.race([this.exited, timeout])) === 'timeout') this.child.kill('SIGKILL');
    }
    const code = await this.exited;
    if (code !== 0) await cleanup(topologyPath);
  }
}

function cleanup(topologyPath: string): Promise<void> {
  return new Promise((r) =>
    spawn(MININET_PYTHON, [RUN_SCENARIO_PY, topologyPath, '--cleanup'], { stdio: 'ignore' }).on('exit', () => r()),
  );
}

export function assertRoot(): void {
  if (process.getuid?.() !== 0) throw new MininetBackendError('the mininet backend needs root: run with sudo');
}

/** Where each process runs: on the Mininet host of its (first) scenario node, at that host's IP. */
export function mininetPlacement(
  hosts: Record<string, MininetHost>,
  linkShaping: LinkShaping,
  originId: string,
  payload?: Payload,
): Placement {
  // The tracker is no scenario host: it shares the origin's (its traffic is control only).
  const hostOf = (spec: ProcSpec) => {
    const id = spec.role === 'tracker' ? originId : spec.nodeIds[0]!;
    const h = hosts[id];
    if (!h) throw new MininetBackendError(`no Mininet host for "${id}" (process ${spec.proc})`);
    return h;
  };
  return {
    name: 'mininet',
    linkShaping,
    ...(payload && { payload }),
    listenHost: (spec) => hostOf(spec).ip,
    prefix: (spec) => ['mnexec', '-a', String(hostOf(spec).pid)],
    // One viewer per process: its host's access link is its own, as in the scenario.
    viewerGroups: (plan) => plan.viewers.map((v) => [v.id]),
  };
}

/**
 * The kernel can only shape bytes that travel. Synthetic chunks are real bytes on Mininet unless
 * the scenario asks for virtual ones (only their size crosses the wire, see
 * services/origin/synthetic.ts); for virtual chunks linkemu keeps emulating latency and bandwidth
 * and the network carries the messages. Real bytes are shaped by the kernel: htb for bandwidth,
 * netem for delay where it exists, else linkemu for delay on top of the kernel's (delay-only).
 */
export function chooseLinkShaping(topology: Pick<Topology, 'virtualPayload'>, kernel: LinkShaping): LinkShaping {
  return topology.virtualPayload ? 'linkemu' : kernel;
}

export async function runMininet(o: BackendRunOptions): Promise<RawRunInfo> {
  assertRoot();
  if (o.plan.viewers.length > maxViewers()) {
    throw new MininetBackendError(
      `scenario "${o.plan.scenarioName}" has ${o.plan.viewers.length} viewers; the mininet backend runs one host and one process per viewer ` +
        `and takes at most ${maxViewers()} — use a smaller scenario or the local backend (LIVEPATH_MININET_MAX_VIEWERS raises the limit)`,
    );
  }
  const modeDir = dirname(resolve(o.rawDir));
  const topology: Topology = exportTopology(loadScenarioFile(o.scenarioPath), o.plan, { scenarioPath: o.scenarioPath });
  const topologyPath = join(modeDir, 'topology.json');
  writeFileSync(topologyPath, `${JSON.stringify(topology, null, 2)}\n`);
  mkdirSync(o.logDir, { recursive: true });
  const logPath = join(o.logDir, 'mininet.log');

  const network = MininetNetwork.start(topologyPath, logPath);
  // Whatever ends the run — done, Ctrl-C, an exception, the network dying — the network goes.
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let networkDied = false;
  void network.exited.then(() => {
    networkDied = true;
    abort.abort();
  });
  const onTerm = () => abort.abort();
  process.once('SIGTERM', onTerm);
  try {
    const ready = await network.next(
      'ready',
      NETWORK_READY_TIMEOUT_MS + topology.hosts.length * NETWORK_READY_PER_HOST_MS,
      logPath,
    );
    const linkShaping = chooseLinkShaping(topology, ready.linkShaping);
    const placement = mininetPlacement(ready.hosts, linkShaping, o.plan.originId, mininetPayload(o.plan));
    const info = await runOnPlacement({ ...o, signal: abort.signal }, placement);
    if (networkDied) throw new MininetBackendError(`the Mininet network went away during the run; see ${logPath}`);
    // Read before teardown: the counters die with the interfaces.
    network.send({ cmd: 'counters' });
    const counters = await network.next('counters', NETWORK_READY_TIMEOUT_MS, logPath);
    const record: MininetRecord = {
      netem: ready.netem,
      docker: ready.docker,
      kernelShaping: ready.linkShaping,
      linkShaping,
      hosts: ready.hosts,
      counters: counters.hosts,
    };
    writeFileSync(join(modeDir, 'mininet.json'), `${JSON.stringify(record, null, 2)}\n`);
    return info;
  } finally {
    process.removeListener('SIGTERM', onTerm);
    o.signal?.removeEventListener('abort', onAbort);
    await network.stop(topologyPath);
  }
}
