// `livepath up`: the chart's release as local processes. Renders the chart with helm as
// `helm install` would, makes every Deployment and StatefulSet replica a pod (names, labels,
// ordinals and hostnames as their controllers give them), gives each an address on loopback and
// each ClusterIP Service a proxy to its ready pods (network.ts), starts the pods in a shuffled
// order (pods start in any order on a cluster), runs them as the kubelet would (kubelet.ts), and
// keeps <state>/up.json current for tools: `livepath up test` (the chart's `helm test`) and tests.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Prng } from '../../core/prng.js';
import { serviceLinkEnv } from './env.js';
import { isLivepathImage } from './images.js';
import { Pod, RESTART_BACKOFF_MS, type KubeletContext } from './kubelet.js';
import { renderRelease, type BarePod, type Release, type RenderOptions, type Workload } from './manifests.js';
import { claimAddressBlock, Network, resolveName } from './network.js';

export interface UpOptions extends RenderOptions {
  /** where pods keep their volumes and logs, and up.json is written */
  stateDir: string;
  /** seed of the start order (default: a random one, printed) */
  orderSeed?: number;
  /** pause between two pod starts (default 0: all at once, in the shuffled order) */
  staggerMs?: number;
  /** the first crash-loop back-off (kubelet: 10 s) */
  restartBackoffMs?: number;
  /** repository of the livepath image, when it is not ".../livepath" */
  livepathImage?: string;
  log?: (line: string) => void;
}

/** What <state>/up.json says, for `livepath up test` and tests. */
export interface UpState {
  release: string;
  namespace: string;
  pid: number;
  orderSeed: number;
  startOrder: string[];
  services: Array<{ name: string; clusterIP: string; ports: number[] }>;
  pods: Array<{
    name: string;
    ip: string;
    labels: Record<string, string>;
    ready: boolean;
    dir: string;
    containers: Array<{ name: string; state: string; pid?: number; restarts: number; ready: boolean; reason: string }>;
  }>;
}

export const STATE_FILE = 'up.json';
export const RELEASE_FILE = 'release.json';

const K8S_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const k8sRandom = (n: number, bytes: Buffer = randomBytes(n)) =>
  [...bytes.subarray(0, n)].map((b) => K8S_ALPHABET[b % K8S_ALPHABET.length]).join('');

export class Up {
  readonly pods: Pod[] = [];
  private stateTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  startOrder: string[] = [];

  private constructor(
    readonly o: UpOptions,
    readonly release: Release,
    readonly network: Network,
    private readonly releaseBlock: () => void,
    readonly orderSeed: number,
  ) {}

  static async start(o: UpOptions): Promise<Up> {
    const up = await Up.cluster(o, await renderRelease(o));
    try {
      await up.startWorkloads();
    } catch (e) {
      await up.stop();
      throw e;
    }
    return up;
  }

  /**
   * The cluster of a rendered release — its network, Services and DNS — with no pods yet: a caller
   * playing the controllers (the contract API server of the Kubernetes backend's tests) adds and
   * removes them with addPod / removePod.
   */
  static async cluster(o: UpOptions, release: Release): Promise<Up> {
    const log = o.log ?? ((l: string) => process.stdout.write(`${l}\n`));
    const stateDir = resolve(o.stateDir);
    rmSync(join(stateDir, 'pods'), { recursive: true, force: true });
    mkdirSync(stateDir, { recursive: true });
    const block = claimAddressBlock();
    let up: Up | undefined;
    const network = new Network(block.block, release.namespace, stateDir, () =>
      (up?.pods ?? []).map((p) => ({
        ip: p.init.ip,
        ready: p.ready,
        labels: p.init.labels,
        port: (target) =>
          typeof target === 'number'
            ? target
            : p.init.spec.containers.flatMap((c) => c.ports ?? []).find((x) => x.name === target)?.containerPort,
      })),
    );
    const seed = o.orderSeed ?? randomBytes(4).readUInt32BE(0);
    up = new Up({ ...o, log, stateDir }, release, network, block.release, seed);
    try {
      await up.setUp();
    } catch (e) {
      await up.stop();
      throw e;
    }
    return up;
  }

  private get log(): (line: string) => void {
    return this.o.log!;
  }

  private kubelet!: KubeletContext;
  private readonly listeners: Array<() => void> = [];

  /** Told whenever a pod changes (started, ready or not, restarted, stopped). */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  private async setUp(): Promise<void> {
    const { release, network } = this;
    network.assignServiceIPs(release.services);
    const serviceEnv = serviceLinkEnv(
      release.services.map((s) => ({
        name: s.metadata.name,
        clusterIP: network.serviceIPs.get(s.metadata.name) ?? 'None',
        ports: s.spec.ports ?? [],
      })),
    );
    this.kubelet = {
      release,
      serviceEnv,
      tablePath: network.tablePath,
      resolve: (host) => this.resolve(host),
      livepathImage: isLivepathImage(this.o.livepathImage),
      restartBackoffMs: this.o.restartBackoffMs ?? RESTART_BACKOFF_MS,
      log: (l) => this.log(`up: ${l}`),
      changed: () => this.changed(),
    };
    this.publishTable();
    await network.startProxies(release.services);
    writeFileSync(
      join(this.o.stateDir, RELEASE_FILE),
      JSON.stringify({
        release: release.release,
        namespace: release.namespace,
        testHooks: release.testHooks,
        configMaps: Object.fromEntries(release.configMaps),
        secrets: Object.fromEntries(release.secrets),
        serviceEnv: Object.fromEntries(serviceEnv),
        livepathImage: this.o.livepathImage,
      }),
    );
  }

  /** Every replica of every workload, started in a shuffled order. */
  private async startWorkloads(): Promise<void> {
    const { release } = this;
    for (const w of release.workloads) for (const init of this.podsOf(w)) this.pods.push(new Pod(init, this.kubelet));
    for (const [kind, n] of release.skipped) this.log(`up: ${n} × ${kind} not emulated (no controller for it here)`);
    const order = Prng.derive(this.orderSeed, 'up-start-order').shuffle(this.pods);
    this.startOrder = order.map((p) => p.name);
    this.log(
      `up: release ${release.release} in namespace ${release.namespace}: ${this.pods.length} pods, started in shuffled order (--order-seed ${this.orderSeed}): ${this.startOrder.join(', ')}`,
    );
    for (const p of order) {
      if (this.stopped) return;
      this.log(`up: pod ${p.name} (${p.init.ip}) starting`);
      void p.start().catch((e: Error) => this.log(`up: pod ${p.name} could not start: ${e.message}`));
      if (this.o.staggerMs) await new Promise((r) => setTimeout(r, this.o.staggerMs));
    }
    this.changed();
  }

  /**
   * Creates and starts a pod of workload `w` (its template as it is now: a caller may have changed
   * the args, and release.configMaps): replica `ordinal` of a StatefulSet, a new one of a Deployment.
   */
  addPod(w: Workload, ordinal = 0): Pod {
    const init = this.podInit(w, ordinal);
    const pod = new Pod(init, this.kubelet);
    this.pods.push(pod);
    this.log(`up: pod ${pod.name} (${init.ip}) starting`);
    void pod.start().catch((e: Error) => this.log(`up: pod ${pod.name} could not start: ${e.message}`));
    this.changed();
    return pod;
  }

  /** Stops a pod (SIGTERM, `graceS`, SIGKILL) and forgets it, with its volumes. */
  async removePod(pod: Pod, graceS?: number): Promise<void> {
    this.log(`up: pod ${pod.name} deleted${graceS === undefined ? '' : ` (grace period ${graceS} s)`}`);
    await pod.stop(graceS);
    this.log(`up: pod ${pod.name} stopped`);
    const i = this.pods.indexOf(pod);
    if (i >= 0) this.pods.splice(i, 1);
    rmSync(pod.init.dir, { recursive: true, force: true });
    this.changed();
  }

  /** The pods a Deployment's or a StatefulSet's controller would create. */
  private podsOf(w: Workload): Array<ConstructorParameters<typeof Pod>[0]> {
    return Array.from({ length: w.spec.replicas ?? 1 }, (_, i) => this.podInit(w, i));
  }

  /** Replica `i` of `w`: named, labelled and addressed as its controller and the kubelet do. */
  private podInit(w: Workload, i: number): ConstructorParameters<typeof Pod>[0] {
    const tpl = w.spec.template;
    const hash = k8sRandom(10, createHash('sha256').update(JSON.stringify(tpl)).digest());
    const sts = w.kind === 'StatefulSet';
    const name = sts ? `${w.metadata.name}-${i}` : `${w.metadata.name}-${hash}-${k8sRandom(5)}`;
    const labels = {
      ...(tpl.metadata?.labels ?? {}),
      ...(sts
        ? {
            'apps.kubernetes.io/pod-index': String(i),
            'statefulset.kubernetes.io/pod-name': name,
            'controller-revision-hash': `${w.metadata.name}-${hash}`,
          }
        : { 'pod-template-hash': hash }),
    };
    return {
      name,
      namespace: this.release.namespace,
      ip: this.network.allocPodIP(),
      labels,
      annotations: tpl.metadata?.annotations ?? {},
      spec: tpl.spec,
      ...(sts && { hostname: name, subdomain: w.spec.serviceName }),
      dir: join(this.o.stateDir, 'pods', name),
    };
  }

  resolve(host: string): string[] | undefined {
    return resolveName(this.table(), this.release.namespace, host);
  }

  private table() {
    return this.network.table(
      this.release.services,
      this.pods.map((p) => ({ ip: p.init.ip, hostname: p.init.hostname, subdomain: p.init.subdomain, ready: p.ready })),
    );
  }

  private publishTable(): void {
    this.network.publish(this.table());
  }

  private readyBefore = new Map<string, boolean>();
  private allReadyLogged = false;

  private changed(): void {
    this.publishTable();
    for (const fn of this.listeners) fn();
    for (const p of this.pods) {
      const was = this.readyBefore.get(p.name) ?? false;
      if (p.ready !== was) {
        this.readyBefore.set(p.name, p.ready);
        this.log(`up: pod ${p.name} ${p.ready ? 'Ready' : 'not ready'}`);
      }
    }
    if (!this.allReadyLogged && this.allReady()) {
      this.allReadyLogged = true;
      this.log(`up: all ${this.pods.filter((p) => !p.notRunHere).length} pods that run here are ready`);
    }
    // Coalesced: probes and restarts may change many things at once.
    this.stateTimer ??= setTimeout(() => {
      this.stateTimer = undefined;
      if (!this.stopped) this.writeState();
    }, 100);
  }

  /** Every pod that runs here is Ready (pods none of whose containers can run here are left out). */
  allReady(): boolean {
    const run = this.pods.filter((p) => !p.notRunHere);
    return run.length > 0 && run.every((p) => p.ready);
  }

  state(): UpState {
    return {
      release: this.release.release,
      namespace: this.release.namespace,
      pid: process.pid,
      orderSeed: this.orderSeed,
      startOrder: this.startOrder,
      services: this.release.services.map((s) => ({
        name: s.metadata.name,
        clusterIP: this.network.serviceIPs.get(s.metadata.name) ?? 'None',
        ports: (s.spec.ports ?? []).map((p) => p.port),
      })),
      pods: this.pods.map((p) => ({
        name: p.name,
        ip: p.init.ip,
        labels: p.init.labels,
        ready: p.ready,
        dir: p.init.dir,
        containers: p.containers.map((c) => ({
          name: c.spec.name,
          state: c.state,
          ...(c.pid !== undefined && c.state === 'running' && { pid: c.pid }),
          restarts: c.restarts,
          ready: c.ready,
          reason: c.reason,
        })),
      })),
    };
  }

  private writeState(): void {
    const path = join(this.o.stateDir, STATE_FILE);
    writeFileSync(`${path}.tmp`, JSON.stringify(this.state(), null, 2));
    // rename: readers never see half a file
    renameSync(`${path}.tmp`, path);
  }

  /** Resolves once every pod is Ready, or rejects after `timeoutMs` naming those that are not. */
  waitReady(timeoutMs: number): Promise<void> {
    return new Promise((resolvePromise, reject) => {
      const deadline = Date.now() + timeoutMs;
      const check = setInterval(() => {
        if (this.allReady()) {
          clearInterval(check);
          resolvePromise();
        } else if (Date.now() > deadline) {
          clearInterval(check);
          reject(new Error(`pods not ready after ${Math.round(timeoutMs / 1000)} s: ${this.notReady().join('; ')}`));
        }
      }, 200);
    });
  }

  notReady(): string[] {
    return this.pods
      .filter((p) => !p.ready && !p.notRunHere)
      .map(
        (p) =>
          `${p.name}: ${p.containers
            .map(
              (c) =>
                `${c.spec.name} ${c.state}${c.readiness && !c.ready ? ` (${c.readiness.last || 'no probe yet'})` : ''}${c.reason ? ` ${c.reason}` : ''}`,
            )
            .join(', ')}`,
      );
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.stateTimer);
    await Promise.all(this.pods.map((p) => p.stop()));
    await this.network.close();
    this.writeState();
    this.releaseBlock();
  }
}

export type { BarePod };
