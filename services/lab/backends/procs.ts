// Child service processes of a run: spawned with a stdio control channel, their stderr logged
// to a file, their JSON events parsed, and all of them stopped together (gracefully, then killed).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { type ControlCommand, type ControlEvent, jsonLine, onJsonLines } from '../../runtime/control.js';
import { packageFile } from '../../runtime/package.js';

/** bin/livepath.js of this checkout, whether this module runs from dist/ or from source (tsx). */
export const CLI_PATH = packageFile('bin', 'livepath.js');

export class ServiceFailedError extends Error {}

export interface ServiceProcess {
  proc: string;
  child: ChildProcess;
  address?: string;
  /** where the process serves its Prometheus metrics, when it does */
  metricsUrl?: string;
  /** the origin's public key, when this is the origin */
  originKey?: string;
  send(c: ControlCommand): void;
  exited: Promise<number | null>;
}

export interface SpawnOptions {
  proc: string;
  args: string[];
  logDir: string;
  onEvent: (e: ControlEvent) => void;
  /** command prefix, e.g. ['mnexec', '-a', PID] for a Mininet host */
  prefix?: string[];
}

export function spawnService(o: SpawnOptions): Promise<ServiceProcess> {
  // LIVEPATH_NODE_ARGS passes flags to every service's node (e.g. --cpu-prof for profiling).
  const nodeArgs = (process.env.LIVEPATH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const argv = [...(o.prefix ?? []), process.execPath, ...nodeArgs, CLI_PATH, ...o.args, '--control', 'stdio'];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  const log = createWriteStream(join(o.logDir, `${o.proc}.log`));
  child.stderr!.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const sp: ServiceProcess = {
    proc: o.proc,
    child,
    exited,
    send: (c) => {
      if (child.stdin!.writable) child.stdin!.write(jsonLine(c));
    },
  };
  child.stdin!.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    let ready = false;
    onJsonLines<ControlEvent>(child.stdout!, (e) => {
      if (e.event === 'ready' && !ready) {
        ready = true;
        sp.address = e.address;
        sp.metricsUrl = e.metricsUrl;
        sp.originKey = e.originKey;
        resolve(sp);
      }
      o.onEvent(e);
    });
    void exited.then((code) => {
      if (!ready)
        reject(
          new ServiceFailedError(
            `${o.proc} exited (code ${code}) before it was ready; see ${join(o.logDir, `${o.proc}.log`)}`,
          ),
        );
    });
  });
}

/** Asks every process to stop, waits up to `graceMs`, then kills what is left. */
export async function stopAll(procs: ServiceProcess[], graceMs = 5_000): Promise<void> {
  for (const p of procs) p.send({ cmd: 'stop' });
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
  await Promise.race([Promise.all(procs.map((p) => p.exited)), timeout]);
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
}
