// One pod as the kubelet runs it, with processes for containers: its volumes (emptyDir,
// ConfigMap and Secret files), init containers in order, then every container with its env and
// args made as the kubelet makes them (env.ts), probes with the spec's timing (readiness decides
// whether Services send it traffic, a failed liveness probe restarts the container), a container
// that exits restarted with the kubelet's back-off, and a stop that is SIGTERM, the grace period,
// then SIGKILL. Mount paths become the pod's directories on this machine (the one liberty taken
// with a container's args and env, since there is no mount namespace here).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { containerEnv, expandCommand, type EnvSources, type PodFields } from './env.js';
import { POD_ENV } from './network.js';
import { launchFor, type Launch } from './images.js';
import type { ContainerSpec, PodSpec, Release } from './manifests.js';
import { ProbeState, runProbe } from './probes.js';

/** The kubelet's crash-loop back-off: 10 s, doubling up to 5 min, reset after 10 min of running. */
export const RESTART_BACKOFF_MS = 10_000;
const RESTART_BACKOFF_MAX_MS = 300_000;
const RESTART_BACKOFF_RESET_MS = 600_000;
const DEFAULT_GRACE_S = 30;

export interface PodInit {
  name: string;
  namespace: string;
  ip: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: PodSpec;
  hostname?: string;
  subdomain?: string;
  /** this pod's directory: volumes/, logs/, scratch/ */
  dir: string;
}

export interface KubeletContext {
  release: Release;
  serviceEnv: ReadonlyMap<string, string>;
  /** the network table file the hook reads */
  tablePath: string;
  resolve(host: string): string[] | undefined;
  livepathImage(image: string): boolean;
  restartBackoffMs: number;
  /** a line for the user */
  log(line: string): void;
  /** something changed (readiness, a restart, an exit) */
  changed(): void;
}

export type ContainerState = 'waiting' | 'running' | 'terminated' | 'skipped';

export class ContainerRun {
  child: ChildProcess | undefined;
  state: ContainerState = 'waiting';
  restarts = 0;
  ready = false;
  exitCode: number | null = null;
  reason = '';
  startedAt = 0;
  backoffMs: number;
  readiness: ProbeState | undefined;
  liveness: ProbeState | undefined;
  launch: Launch | undefined;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    readonly spec: ContainerSpec,
    backoffMs: number,
  ) {
    this.backoffMs = backoffMs;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers = this.timers.filter((x) => x !== t);
      fn();
    }, ms);
    this.timers.push(t);
  }

  clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }
}

export class Pod {
  readonly uid = randomUUID();
  readonly containers: ContainerRun[];
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' = 'Pending';
  private stopping = false;
  private readonly mounts = new Map<string, string>();
  private logs = new Map<string, WriteStream>();
  private sources: EnvSources;

  constructor(
    readonly init: PodInit,
    private readonly k: KubeletContext,
  ) {
    this.containers = init.spec.containers.map((c) => new ContainerRun(c, k.restartBackoffMs));
    this.sources = { configMaps: k.release.configMaps, secrets: k.release.secrets, serviceEnv: k.serviceEnv };
  }

  get name(): string {
    return this.init.name;
  }

  /** No container of this pod can run here (e.g. Grafana with no local Grafana): it is not waited for. */
  get notRunHere(): boolean {
    return this.phase === 'Running' && this.containers.every((c) => c.state === 'skipped');
  }

  /** Ready as a Service sees it: every container that runs here is ready. */
  get ready(): boolean {
    const run = this.containers.filter((c) => c.state !== 'skipped');
    return this.phase === 'Running' && run.length > 0 && run.every((c) => c.ready);
  }

  fields(): PodFields {
    return {
      name: this.init.name,
      namespace: this.init.namespace,
      uid: this.uid,
      labels: this.init.labels,
      annotations: this.init.annotations,
      podIP: this.init.ip,
      hostIP: '127.0.0.1',
      nodeName: 'livepath-up',
      serviceAccountName: this.init.spec.serviceAccountName ?? 'default',
    };
  }

  /** Volumes, then init containers one after the other, then the containers. */
  async start(): Promise<void> {
    this.prepareVolumes();
    for (const c of this.init.spec.initContainers ?? []) {
      if (this.stopping) return;
      const code = await this.runToCompletion(c);
      if (code !== 0 && code !== undefined) {
        this.phase = 'Failed';
        this.k.log(`${this.name}: init container ${c.name} failed (exit ${code}); see ${this.logPath(c.name)}`);
        this.k.changed();
        return;
      }
    }
    this.phase = 'Running';
    for (const c of this.containers) this.startContainer(c);
    this.k.changed();
  }

  /** A bare pod (restartPolicy Never, e.g. a `helm test` hook): resolves with its containers' exit codes. */
  async runOnce(): Promise<Array<{ name: string; code: number | null; reason: string }>> {
    await this.start();
    await Promise.all(
      this.containers.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.state === 'skipped' || c.state === 'terminated') return resolve();
            const check = setInterval(() => {
              if (c.state === 'terminated' || c.state === 'skipped') {
                clearInterval(check);
                resolve();
              }
            }, 100);
          }),
      ),
    );
    return this.containers.map((c) => ({ name: c.spec.name, code: c.exitCode, reason: c.reason }));
  }

  /** SIGTERM every container, SIGKILL what is left after the grace period. */
  async stop(graceS = this.init.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_S): Promise<void> {
    this.stopping = true;
    const running = this.containers.filter((c) => c.child && c.child.exitCode === null && c.child.signalCode === null);
    for (const c of this.containers) c.clearTimers();
    await Promise.all(running.map((c) => stopChild(c.child!, graceS)));
    await Promise.all([...this.logs.values()].map((l) => new Promise<void>((r) => l.end(() => r()))));
    this.logs.clear();
    this.k.changed();
  }

  logPath(container: string): string {
    return join(this.init.dir, 'logs', `${container}.log`);
  }

  private log(container: string): WriteStream {
    let s = this.logs.get(container);
    if (!s) {
      mkdirSync(join(this.init.dir, 'logs'), { recursive: true });
      s = createWriteStream(this.logPath(container), { flags: 'a' });
      this.logs.set(container, s);
    }
    return s;
  }

  private prepareVolumes(): void {
    const volumes = new Map<string, string>();
    for (const v of this.init.spec.volumes ?? []) {
      const dir = join(this.init.dir, 'volumes', v.name);
      mkdirSync(dir, { recursive: true });
      volumes.set(v.name, dir);
      const files = v.configMap
        ? {
            obj: this.k.release.configMaps.get(v.configMap.name),
            items: v.configMap.items,
            what: `ConfigMap "${v.configMap.name}"`,
            optional: v.configMap.optional,
          }
        : v.secret
          ? {
              obj: this.k.release.secrets.get(v.secret.secretName),
              items: v.secret.items,
              what: `Secret "${v.secret.secretName}"`,
              optional: v.secret.optional,
            }
          : undefined;
      if (!files) continue;
      if (!files.obj) {
        if (!files.optional)
          this.k.log(`${this.name}: volume ${v.name} names ${files.what}, which the release does not create`);
        continue;
      }
      const items = files.items ?? Object.keys(files.obj).map((key) => ({ key, path: key }));
      for (const it of items) {
        const value = files.obj[it.key];
        if (value === undefined) continue;
        const path = join(dir, it.path);
        mkdirSync(join(path, '..'), { recursive: true });
        writeFileSync(path, value);
      }
    }
    for (const c of [...(this.init.spec.initContainers ?? []), ...this.init.spec.containers]) {
      for (const m of c.volumeMounts ?? []) {
        const dir = volumes.get(m.name);
        if (dir) this.mounts.set(`${c.name}\u0000${m.mountPath}`, m.subPath ? join(dir, m.subPath) : dir);
      }
    }
  }

  /** Mount paths of container `c` → directories here, longest mount path first. */
  private mapper(c: ContainerSpec): { path(p: string): string; text(t: string): string } {
    const mounts = (c.volumeMounts ?? [])
      .map((m) => [m.mountPath.replace(/\/+$/, ''), this.mounts.get(`${c.name}\u0000${m.mountPath}`)] as const)
      .filter((m): m is readonly [string, string] => m[1] !== undefined)
      .sort((a, b) => b[0].length - a[0].length);
    const path = (p: string): string => {
      for (const [from, to] of mounts) if (p === from || p.startsWith(`${from}/`)) return to + p.slice(from.length);
      return p;
    };
    const arg = (a: string): string => {
      const eq = a.indexOf('=');
      return eq > 0 && a[eq + 1] === '/' ? a.slice(0, eq + 1) + path(a.slice(eq + 1)) : path(a);
    };
    const text = (t: string): string => {
      let out = t;
      for (const [from, to] of mounts)
        out = out.replace(
          new RegExp(`(?<![\\w/.-])${from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=/|\\b|$)`, 'g'),
          to,
        );
      return out;
    };
    return { path: arg, text };
  }

  private plan(c: ContainerSpec): { launch: Launch; env: NodeJS.ProcessEnv } | { skip: string } {
    const env = containerEnv(c, this.fields(), this.sources);
    const cmd = expandCommand(c, env);
    const map = this.mapper(c);
    const scratch = join(this.init.dir, 'scratch', c.name);
    mkdirSync(scratch, { recursive: true });
    const launch = launchFor(c, {
      podIP: this.init.ip,
      command: cmd.command?.map(map.path),
      args: cmd.args.map(map.path),
      mapPath: map.path,
      mapText: map.text,
      resolve: this.k.resolve,
      scratch,
      livepathImage: this.k.livepathImage,
    });
    if ('skip' in launch) return launch;
    const own: Record<string, string> = {};
    for (const [k, v] of env) own[k] = map.path(v);
    const tmp = map.path('/tmp');
    return {
      launch,
      env: {
        // Not the host's environment: a container sees its own only.
        PATH: process.env.PATH,
        HOSTNAME: this.init.hostname ?? this.init.name,
        ...(tmp !== '/tmp' && { TMPDIR: tmp }),
        ...own,
        ...launch.extraEnv,
        [POD_ENV]: JSON.stringify({ podIP: this.init.ip, namespace: this.init.namespace, table: this.k.tablePath }),
      },
    };
  }

  private spawnContainer(c: ContainerSpec, env: NodeJS.ProcessEnv, launch: Launch): ChildProcess {
    const log = this.log(c.name);
    log.write(`--- ${new Date().toISOString()} ${launch.command} ${launch.args.join(' ')}\n`);
    const child = spawn(launch.command, launch.args, { cwd: this.init.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    child.on('error', (e) => log.write(`--- could not start: ${e.message}\n`));
    return child;
  }

  private runToCompletion(c: ContainerSpec): Promise<number | null | undefined> {
    const p = this.plan(c);
    if ('skip' in p) {
      this.k.log(`${this.name}: init container ${c.name} skipped: ${p.skip}`);
      return Promise.resolve(undefined);
    }
    const child = this.spawnContainer(c, p.env, p.launch);
    return new Promise((resolve) => child.on('close', (code) => resolve(code)));
  }

  private startContainer(c: ContainerRun): void {
    if (this.stopping) return;
    const p = this.plan(c.spec);
    if ('skip' in p) {
      c.state = 'skipped';
      c.reason = p.skip;
      this.k.log(`${this.name}: container ${c.spec.name} not run: ${p.skip}`);
      return;
    }
    if (p.launch.note && c.restarts === 0) this.k.log(`${this.name}: ${p.launch.note}`);
    c.launch = p.launch;
    const child = this.spawnContainer(c.spec, p.env, p.launch);
    c.child = child;
    c.state = 'running';
    c.startedAt = Date.now();
    c.ready = !c.spec.readinessProbe;
    c.readiness = c.spec.readinessProbe && new ProbeState(c.spec.readinessProbe, false);
    c.liveness = c.spec.livenessProbe && new ProbeState(c.spec.livenessProbe, true);
    this.scheduleProbes(c, child);
    child.on('close', (code, signal) => {
      if (c.child !== child) return;
      c.clearTimers();
      c.ready = false;
      c.exitCode = code;
      c.reason = signal ? `killed by ${signal}` : `exit ${code}`;
      c.state = 'terminated';
      this.k.changed();
      const policy = this.init.spec.restartPolicy ?? 'Always';
      if (this.stopping || policy === 'Never' || (policy === 'OnFailure' && code === 0)) return;
      if (Date.now() - c.startedAt >= RESTART_BACKOFF_RESET_MS) c.backoffMs = this.k.restartBackoffMs;
      const wait = c.backoffMs;
      c.backoffMs = Math.min(RESTART_BACKOFF_MAX_MS, c.backoffMs * 2);
      this.k.log(
        `${this.name}: container ${c.spec.name} ${c.reason}; restarting in ${Math.round(wait / 1000)} s (see ${this.logPath(c.spec.name)})`,
      );
      c.later(wait, () => {
        c.restarts++;
        c.state = 'waiting';
        this.startContainer(c);
        this.k.changed();
      });
    });
  }

  private scheduleProbes(c: ContainerRun, child: ChildProcess): void {
    const port = (p: number | string) =>
      typeof p === 'number' ? p : (c.spec.ports?.find((x) => x.name === p)?.containerPort ?? Number(p));
    const loop = (state: ProbeState, onResult: (ok: boolean) => void) => {
      const spec = state.spec;
      const tick = async () => {
        if (c.child !== child || this.stopping) return;
        const r = await runProbe(spec, this.init.ip, port);
        if (c.child !== child || this.stopping) return;
        onResult(state.record(r));
        c.later((spec.periodSeconds ?? 10) * 1000, () => void tick());
      };
      c.later((spec.initialDelaySeconds ?? 0) * 1000, () => void tick());
    };
    if (c.readiness)
      loop(c.readiness, (ok) => {
        if (ok === c.ready) return;
        c.ready = ok;
        this.k.changed();
      });
    if (c.liveness)
      loop(c.liveness, (ok) => {
        if (ok) return;
        this.k.log(
          `${this.name}: container ${c.spec.name} failed its liveness probe (${c.liveness!.last}); killing it`,
        );
        child.kill('SIGTERM');
        setTimeout(
          () => child.kill('SIGKILL'),
          (this.init.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_S) * 1000,
        ).unref();
      });
  }
}

function stopChild(child: ChildProcess, graceS: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), graceS * 1000);
    child.once('close', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
