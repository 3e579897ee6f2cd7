// `livepath run --backend kubernetes`: runs one mode of a scenario on a cluster where the chart
// (charts/livepath) is installed. The services run as the chart deploys them (standalone, each
// starting its broadcast or viewers when its pod starts); this backend only drives the cluster
// through the API: it points the release at the scenario and mode, scales the peers, restarts the
// pods so the run begins fresh, waits for readiness, deletes peer pods at the scenario's kill
// times, and copies every pod's raw records (results emptyDir) out with the exec API.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  AppsV1Api,
  CoreV1Api,
  Exec,
  KubeConfig,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type V1Pod,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import type { RunPlan } from '../../../core/types.js';
import type { Backend, BackendRunOptions, RawRunInfo } from '../index.js';
import { chunkCount } from '../../../results/chunks.js';
import { PACKAGE_ROOT } from '../../../runtime/package.js';
import { DRAIN_GRACE_MS, START_LEAD_MS } from '../../constants.js';
import { copyResultFile, ExecError, listResultFiles, type PodRef } from './collect.js';
import {
  ApiUnreachableError,
  ConflictError,
  ForbiddenError,
  KubernetesError,
  NoKubeconfigError,
  PodsNotReadyError,
  ReleaseMismatchError,
  ReleaseNotFoundError,
  UnauthorizedError,
  type CallSite,
} from './errors.js';

export * from './errors.js';

/** How long pods may take to become ready after the restart (image pulls on a fresh node). */
const READY_TIMEOUT_MS = 300_000;
/** Optimistic-concurrency retries of a patch that met a 409 (someone else changed the object). */
const CONFLICT_RETRIES = 3;
const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export interface KubernetesBackendOptions {
  /** kubeconfig context (default: the current one) */
  context?: string;
  /** namespace (default: the context's, else "default") */
  namespace?: string;
  /** Helm release name (default "livepath") */
  release?: string;
  /** run `helm install` (scripts/helm.mjs) when the release is missing */
  install?: boolean;
  /** progress lines (default: stderr) */
  log?: (line: string) => void;
  readyTimeoutMs?: number;
  /** wait after the last chunk before collecting (default: DRAIN_GRACE_MS + 3 × the largest bound) */
  drainMs?: number;
}

/** The cluster the kubeconfig points at. */
export interface ClusterTarget {
  kc: KubeConfig;
  context: string;
  server: string;
  namespace: string;
  user: string;
}

/** Loads the kubeconfig the way kubectl does (KUBECONFIG list, else ~/.kube/config, else in-cluster). */
export function loadCluster(
  o: Pick<KubernetesBackendOptions, 'context' | 'namespace'>,
  env = process.env,
): ClusterTarget {
  const kc = new KubeConfig();
  const files = env.KUBECONFIG ? env.KUBECONFIG.split(delimiter).filter(Boolean) : [join(homedir(), '.kube', 'config')];
  const present = files.filter((f) => existsSync(f));
  try {
    if (present.length > 0) {
      kc.loadFromFile(present[0]!);
      for (const f of present.slice(1)) {
        const more = new KubeConfig();
        more.loadFromFile(f);
        kc.mergeConfig(more, true);
      }
    } else if (env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    else
      throw new NoKubeconfigError(
        env.KUBECONFIG ? `KUBECONFIG=${env.KUBECONFIG} names no existing file` : `${files[0]} does not exist`,
      );
  } catch (e) {
    if (e instanceof KubernetesError) throw e;
    throw new NoKubeconfigError(
      `cannot read ${present[0] ?? 'the in-cluster config'}: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  if (o.context) {
    if (!kc.getContextObject(o.context))
      throw new NoKubeconfigError(
        `context "${o.context}" is not in the kubeconfig (it has: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        })`,
      );
    kc.setCurrentContext(o.context);
  }
  const context = kc.getCurrentContext();
  const cluster = kc.getCurrentCluster();
  if (!context || !cluster)
    throw new NoKubeconfigError(`${present[0] ?? 'the kubeconfig'} has no current context (pick one with --context)`);
  return {
    kc,
    context,
    server: cluster.server,
    namespace: o.namespace ?? kc.getContextObject(context)?.namespace ?? 'default',
    user: kc.getCurrentUser()?.name ? `user "${kc.getCurrentUser()!.name}"` : 'the current user',
  };
}

/** An API answer other than 401/403 that the caller decides about (404, 409, …). */
class ApiStatusError extends KubernetesError {
  constructor(
    readonly code: number,
    readonly site: CallSite,
    detail: string,
  ) {
    super(
      `the API server refused to ${site.verb} ${site.resource}${site.name ? ` "${site.name}"` : ''}: ${detail} (${code})`,
    );
  }
}

function statusMessage(body: unknown): string {
  try {
    const s = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string; reason?: string };
    return s?.message ?? s?.reason ?? 'no details';
  } catch {
    return typeof body === 'string' && body ? body.slice(0, 200) : 'no details';
  }
}

/** The API calls of the backend, each named by its RBAC verb/resource so errors can say which. */
export class ClusterApi {
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly exec: Exec;
  readonly watcher: Watch;

  constructor(readonly t: ClusterTarget) {
    this.apps = t.kc.makeApiClient(AppsV1Api);
    this.core = t.kc.makeApiClient(CoreV1Api);
    this.exec = new Exec(t.kc);
    this.watcher = new Watch(t.kc);
  }

  async call<T>(site: CallSite, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.toError(e, site);
    }
  }

  toError(e: unknown, site: CallSite): Error {
    if (e instanceof KubernetesError) return e;
    const err = e as {
      code?: unknown;
      statusCode?: unknown;
      body?: unknown;
      message?: string;
      errno?: unknown;
      cause?: { code?: unknown };
    };
    const status =
      typeof err.code === 'number'
        ? err.code
        : typeof err.statusCode === 'number'
          ? err.statusCode
          : e instanceof ExecError
            ? e.httpStatus
            : undefined;
    if (status === 401) return new UnauthorizedError(this.t.server, this.t.context);
    if (status === 403) return new ForbiddenError(site.verb, site.resource, this.t.namespace, this.t.user);
    if (status !== undefined) return new ApiStatusError(status, site, statusMessage(err.body ?? err.message));
    const net = [err.code, err.cause?.code].find((c) => typeof c === 'string' && NETWORK_ERRORS.has(c));
    if (net || /ECONNREFUSED|ENOTFOUND|socket hang up|connect ETIMEDOUT/.test(err.message ?? ''))
      return new ApiUnreachableError(this.t.server, this.t.context, String(net ?? err.message));
    if (e instanceof ExecError) return new KubernetesError(e.message);
    return e instanceof Error ? e : new Error(String(e));
  }
}

/** Names the chart gives a release's objects (templates/_helpers.tpl: livepath.fullname). */
export function releaseNames(release: string) {
  const fullname = (release.includes('livepath') ? release : `${release}-livepath`).slice(0, 63).replace(/-+$/, '');
  return {
    fullname,
    peers: `${fullname}-peers`,
    scenario: `${fullname}-scenario`,
    selector: `app.kubernetes.io/instance=${release},livepath.io/role`,
  };
}

export function helmInstallCommand(release: string, namespace: string, scenarioPath: string): string[] {
  return [
    'install',
    release,
    join(PACKAGE_ROOT, 'charts', 'livepath'),
    '--namespace',
    namespace,
    '--create-namespace',
    '--set-file',
    `scenarioFile=${scenarioPath}`,
    '--wait',
  ];
}

/** Which peer pods a kill event of the scenario deletes: the hosts of most of its killed viewers. */
export function churnPodKills(plan: RunPlan, viewersPerHost: number): Array<{ atS: number; hosts: number[] }> {
  const index = new Map(plan.viewers.map((v, i) => [v.id, i]));
  const byTime = new Map<number, string[]>();
  for (const c of plan.churn) if (c.kind === 'kill') byTime.set(c.atS, [...(byTime.get(c.atS) ?? []), c.viewerId]);
  return [...byTime]
    .sort((a, b) => a[0] - b[0])
    .map(([atS, ids]) => {
      const perHost = new Map<number, number>();
      for (const id of ids) {
        const h = Math.floor((index.get(id) ?? 0) / viewersPerHost);
        perHost.set(h, (perHost.get(h) ?? 0) + 1);
      }
      const n = Math.max(1, Math.ceil(ids.length / viewersPerHost));
      const hosts = [...perHost]
        .sort((a, b) => b[1] - a[1] || a[0] - b[0])
        .slice(0, n)
        .map(([h]) => h)
        .sort((a, b) => a - b);
      return { atS, hosts };
    });
}

function argValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

function withArg(args: string[], flag: string, value: string): string[] {
  const i = args.indexOf(flag);
  return i >= 0 ? args.map((a, j) => (j === i + 1 ? value : a)) : [...args, flag, value];
}

function isReady(p: V1Pod): boolean {
  return (
    !p.metadata?.deletionTimestamp &&
    p.status?.phase === 'Running' &&
    (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

function waitingReason(p: V1Pod): string {
  const cs = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
  const w = cs
    .map(
      (c) =>
        c.state?.waiting?.reason ??
        (c.state?.terminated ? `terminated: ${c.state.terminated.reason ?? c.state.terminated.exitCode}` : undefined),
    )
    .find(Boolean);
  return w ?? p.status?.phase ?? 'Pending';
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((r) => {
    if (signal?.aborted || ms <= 0) return r();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      r();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The Backend for `runExperiment`, bound to the cluster options of the command line. */
export function kubernetesBackend(k: KubernetesBackendOptions = {}): Backend {
  return (o) => runKubernetes(o, k);
}

export async function runKubernetes(o: BackendRunOptions, k: KubernetesBackendOptions = {}): Promise<RawRunInfo> {
  const log = k.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { plan } = o;
  const target = loadCluster(k);
  const api = new ClusterApi(target);
  const ns = target.namespace;
  const release = k.release ?? 'livepath';
  const names = releaseNames(release);
  mkdirSync(o.rawDir, { recursive: true });
  log(`kubernetes: context "${target.context}" (${target.server}), namespace "${ns}", release "${release}"`);

  // 1. The release: its peers StatefulSet (404 = not installed), the origin, edges and tracker.
  const readPeers = () =>
    api.call({ verb: 'get', resource: 'statefulsets', name: names.peers }, () =>
      api.apps.readNamespacedStatefulSet({ name: names.peers, namespace: ns }),
    );
  let sts: V1StatefulSet;
  try {
    sts = await readPeers();
  } catch (e) {
    if (!(e instanceof ApiStatusError && e.code === 404)) throw e;
    const args = [
      ...helmInstallCommand(release, ns, o.scenarioPath),
      ...(k.context ? ['--kube-context', k.context] : []),
    ];
    if (!k.install)
      throw new ReleaseNotFoundError(release, ns, `no StatefulSet ${names.peers}`, `helm ${args.join(' ')}`);
    await helmInstall(args, log);
    sts = await readPeers();
  }
  const deployments = await api.call({ verb: 'list', resource: 'deployments' }, () =>
    api.apps.listNamespacedDeployment({ namespace: ns, labelSelector: names.selector }),
  );
  const byRole = (role: string) => deployments.items.filter((d) => d.metadata?.labels?.['livepath.io/role'] === role);
  const origin = byRole('origin')[0];
  if (!origin)
    throw new ReleaseNotFoundError(
      release,
      ns,
      'no origin Deployment',
      `helm ${helmInstallCommand(release, ns, o.scenarioPath).join(' ')}`,
    );
  const originId = argValue(origin.spec?.template.spec?.containers[0]?.args ?? [], '--node') ?? plan.originId;
  const edgeIds = new Set(byRole('edge').map((d) => d.metadata?.labels?.['livepath.io/node'] ?? ''));
  const missing = plan.edges.map((e) => e.id).filter((id) => !edgeIds.has(id));
  if (originId !== plan.originId || missing.length > 0) {
    throw new ReleaseMismatchError(
      `release "${release}" does not deploy the nodes scenario "${plan.scenarioName}" needs (${originId !== plan.originId ? `origin "${plan.originId}", release has "${originId}"` : `edges ${missing.join(', ')}`}): set origin.nodeId and edges[].id in the chart values to the scenario's ids (helm upgrade)`,
    );
  }
  if (o.mode === 'p2p' && byRole('tracker').length === 0)
    throw new ReleaseMismatchError(`release "${release}" has no tracker Deployment, which --mode p2p needs`);

  // 2. Point the release at this scenario and mode; remember what to put back.
  const restore: Array<() => Promise<unknown>> = [];
  const peerPods: string[] = [];
  let startUs = Date.now() * 1000;
  let produced = 0;
  try {
    const scenarioText = readFileSync(o.scenarioPath, 'utf8');
    const cmSite: CallSite = { verb: 'get', resource: 'configmaps', name: names.scenario };
    const cm = await api
      .call(cmSite, () => api.core.readNamespacedConfigMap({ name: names.scenario, namespace: ns }))
      .catch((e: unknown) => {
        if (e instanceof ApiStatusError && e.code === 404)
          throw new ReleaseNotFoundError(
            release,
            ns,
            `no ConfigMap ${names.scenario}`,
            `helm ${helmInstallCommand(release, ns, o.scenarioPath).join(' ')}`,
          );
        throw e;
      });
    const before = cm.data?.['scenario.yaml'];
    if (before !== scenarioText) {
      log(
        `kubernetes: the release runs another scenario; setting ConfigMap ${names.scenario} to ${o.scenarioPath} for this run`,
      );
      await patchConfigMap(api, ns, names.scenario, scenarioText);
      restore.push(() => patchConfigMap(api, ns, names.scenario, before ?? ''));
    }

    const container =
      sts.spec?.template.spec?.containers.find((c) => c.name === 'peers') ?? sts.spec?.template.spec?.containers[0];
    if (!container) throw new ReleaseMismatchError(`StatefulSet ${names.peers} has no container`);
    const oldArgs = container.args ?? [];
    const perHost = o.viewersPerHost ?? Number(argValue(oldArgs, '--viewers-per-host') ?? 50);
    const hosts = Math.max(1, Math.ceil(plan.viewers.length / perHost));
    let args = withArg(oldArgs, '--mode', o.mode);
    args = withArg(args, '--viewers-per-host', String(perHost));
    if (args.join('\0') !== oldArgs.join('\0')) {
      log(`kubernetes: peers → --mode ${o.mode} --viewers-per-host ${perHost}`);
      await patchPeersArgs(api, ns, names.peers, container.name, args);
      restore.push(() => patchPeersArgs(api, ns, names.peers, container.name, oldArgs));
    }
    const oldReplicas = sts.spec?.replicas ?? 1;
    await api.call({ verb: 'patch', resource: 'statefulsets/scale', name: names.peers }, () =>
      api.apps.patchNamespacedStatefulSetScale(
        { name: names.peers, namespace: ns, body: { spec: { replicas: hosts } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    if (oldReplicas !== hosts) {
      restore.push(() =>
        api.call({ verb: 'patch', resource: 'statefulsets/scale', name: names.peers }, () =>
          api.apps.patchNamespacedStatefulSetScale(
            { name: names.peers, namespace: ns, body: { spec: { replicas: oldReplicas } } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          ),
        ),
      );
    }
    for (let i = 0; i < hosts; i++) peerPods.push(`${names.peers}-${i}`);
    log(`kubernetes: ${plan.viewers.length} viewers on ${hosts} peer pods (${perHost} each)`);

    // 3. A fresh start: every livepath pod is replaced, so the broadcast and the viewers begin now.
    const old = await api.call({ verb: 'list', resource: 'pods' }, () =>
      api.core.listNamespacedPod({ namespace: ns, labelSelector: names.selector }),
    );
    const replaced = new Set<string>();
    for (const p of old.items) {
      replaced.add(p.metadata!.uid!);
      await deletePod(api, ns, p, log);
    }
    const expect = {
      origin: 1,
      edge: plan.edges.length,
      tracker: byRole('tracker').length > 0 ? 1 : 0,
    };
    const pods = await waitForPods(
      api,
      ns,
      names.selector,
      k.readyTimeoutMs ?? READY_TIMEOUT_MS,
      o.signal,
      log,
      (all) => {
        const fresh = [...all.values()].filter(
          (p) => !replaced.has(p.metadata?.uid ?? '') && !p.metadata?.deletionTimestamp,
        );
        const ready = (role: string) =>
          fresh.filter((p) => p.metadata?.labels?.['livepath.io/role'] === role && isReady(p)).length;
        const peersReady = peerPods.filter((n) => fresh.some((p) => p.metadata?.name === n && isReady(p))).length;
        const done =
          ready('origin') >= expect.origin &&
          ready('edge') >= expect.edge &&
          ready('tracker') >= expect.tracker &&
          peersReady === hosts;
        const waiting = fresh.filter((p) => !isReady(p)).map((p) => `${p.metadata?.name} ${waitingReason(p)}`);
        const total = expect.origin + expect.edge + expect.tracker + hosts;
        const n =
          Math.min(ready('origin'), expect.origin) +
          Math.min(ready('edge'), expect.edge) +
          Math.min(ready('tracker'), expect.tracker) +
          peersReady;
        return {
          done,
          line: `kubernetes: ${n}/${total} pods ready (peers ${peersReady}/${hosts})${waiting.length ? ` · waiting: ${waiting.slice(0, 3).join(', ')}${waiting.length > 3 ? ', …' : ''}` : ''}`,
        };
      },
    );
    // The origin starts chunk 0 one lead time after its process started (standalone control).
    const originPod = [...pods.values()].find(
      (p) => p.metadata?.labels?.['livepath.io/role'] === 'origin' && isReady(p),
    );
    const started = originPod?.status?.containerStatuses?.find((c) => c.state?.running)?.state?.running?.startedAt;
    startUs = (started ? new Date(started).getTime() : Date.now()) * 1000 + START_LEAD_MS * 1000;

    // 4. The run: progress by the clock, peer pods deleted at the scenario's kill times.
    const chunkUs = plan.stream.chunkDurationUs;
    const total = chunkCount(plan);
    const tick = setInterval(() => {
      produced = Math.max(0, Math.min(total, Math.floor((Date.now() * 1000 - startUs) / chunkUs)));
      o.onProgress?.({ produced, total, received: 0 });
    }, 1_000);
    const generation = new Map<string, number>();
    try {
      for (const kill of churnPodKills(plan, perHost)) {
        await sleep(startUs / 1000 + kill.atS * 1000 - Date.now(), o.signal);
        if (o.signal?.aborted) break;
        for (const h of kill.hosts) {
          const name = peerPods[h];
          const pod = name && pods.get(name);
          if (!pod) continue;
          const gen = generation.get(name) ?? 0;
          // Its emptyDir dies with it: copy the records out first.
          await collectPod(api, ns, pod, gen === 0 ? name : `${name}-r${gen}`, o.rawDir, log);
          generation.set(name, gen + 1);
          log(
            `kubernetes: churn at ${kill.atS} s: deleting ${name} (its viewers vanish; the StatefulSet starts a new one)`,
          );
          await deletePod(api, ns, pod, log, 0);
        }
      }
      const maxBoundMs = Math.max(0, ...plan.viewers.map((v) => v.boundMs));
      await sleep(
        startUs / 1000 + plan.durationS * 1000 + (k.drainMs ?? DRAIN_GRACE_MS + 3 * maxBoundMs) - Date.now(),
        o.signal,
      );
    } finally {
      clearInterval(tick);
    }
    produced = Math.max(0, Math.min(total, Math.floor((Date.now() * 1000 - startUs) / chunkUs)));

    // 5. Collect every pod's records (peers: the viewers; origin: ingest samples; all: linkemu).
    const now = await api.call({ verb: 'list', resource: 'pods' }, () =>
      api.core.listNamespacedPod({ namespace: ns, labelSelector: names.selector }),
    );
    for (const p of now.items) {
      if (p.metadata?.deletionTimestamp || p.status?.phase !== 'Running' || replaced.has(p.metadata?.uid ?? ''))
        continue;
      const role = p.metadata?.labels?.['livepath.io/role'];
      const name = p.metadata!.name!;
      const gen = generation.get(name) ?? 0;
      const proc =
        role === 'peer'
          ? gen === 0
            ? name
            : `${name}-r${gen}`
          : role === 'edge'
            ? (p.metadata?.labels?.['livepath.io/node'] ?? name)
            : (role ?? name);
      await collectPod(api, ns, p, proc, o.rawDir, log);
    }
    o.onProgress?.({ produced, total, received: 0 });
  } finally {
    // 6. Put back what this run changed (scenario, peers' flags and replicas), newest first.
    for (const undo of restore.reverse()) {
      try {
        await undo();
      } catch (e) {
        log(
          `kubernetes: could not restore the release (${(e as Error).message}); \`helm upgrade --reuse-values\` puts it back`,
        );
      }
    }
  }
  return {
    plan,
    mode: o.mode,
    backend: 'kubernetes',
    chunksProduced: produced,
    startUs,
    extra: { linkShaping: 'linkemu' },
  };
}

async function patchConfigMap(api: ClusterApi, ns: string, name: string, text: string): Promise<void> {
  await api.call({ verb: 'patch', resource: 'configmaps', name }, () =>
    api.core.patchNamespacedConfigMap(
      { name, namespace: ns, body: { data: { 'scenario.yaml': text } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ),
  );
}

/**
 * Replaces the peers container's args. The patch carries the resourceVersion it was computed
 * from, so a concurrent change (a `helm upgrade`) answers 409 and the patch is redone on the new object.
 */
async function patchPeersArgs(
  api: ClusterApi,
  ns: string,
  name: string,
  container: string,
  args: string[],
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const sts = await api.call({ verb: 'get', resource: 'statefulsets', name }, () =>
      api.apps.readNamespacedStatefulSet({ name, namespace: ns }),
    );
    const body = {
      metadata: { resourceVersion: sts.metadata?.resourceVersion },
      spec: { template: { spec: { containers: [{ name: container, args }] } } },
    };
    try {
      await api.call({ verb: 'patch', resource: 'statefulsets', name }, () =>
        api.apps.patchNamespacedStatefulSet(
          { name, namespace: ns, body },
          setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
        ),
      );
      return;
    } catch (e) {
      if (!(e instanceof ApiStatusError && e.code === 409)) throw e;
      if (attempt >= CONFLICT_RETRIES)
        throw new ConflictError(
          `StatefulSet ${name} kept changing while livepath patched it (409 Conflict ${attempt} times): is a helm upgrade running?`,
        );
    }
  }
}

/** Deletes a pod, but only the one observed (uid precondition): 409/404 mean it is already replaced or gone. */
async function deletePod(
  api: ClusterApi,
  ns: string,
  p: V1Pod,
  log: (l: string) => void,
  gracePeriodSeconds?: number,
): Promise<void> {
  const name = p.metadata!.name!;
  try {
    await api.call({ verb: 'delete', resource: 'pods', name }, () =>
      api.core.deleteNamespacedPod({
        name,
        namespace: ns,
        gracePeriodSeconds,
        body: { preconditions: { uid: p.metadata?.uid } },
      }),
    );
  } catch (e) {
    if (e instanceof ApiStatusError && (e.code === 404 || e.code === 409)) {
      log(`kubernetes: pod ${name} was already ${e.code === 404 ? 'gone' : 'replaced'}`);
      return;
    }
    throw e;
  }
}

/** Copies /app/results/<x>.<rest> of a pod to rawDir/<proc>.<rest>. */
async function collectPod(
  api: ClusterApi,
  ns: string,
  p: V1Pod,
  proc: string,
  rawDir: string,
  log: (l: string) => void,
): Promise<void> {
  const ref: PodRef = { namespace: ns, pod: p.metadata!.name!, container: p.spec?.containers[0]?.name ?? '' };
  const site: CallSite = { verb: 'create', resource: 'pods/exec', name: ref.pod };
  const files = await api.call(site, () => listResultFiles(api.exec, ref));
  for (const f of files) {
    const dot = f.indexOf('.');
    if (dot <= 0) continue;
    await api.call(site, () => copyResultFile(api.exec, ref, f, join(rawDir, `${proc}${f.slice(dot)}`)));
  }
  log(`kubernetes: collected ${files.length} files from ${ref.pod}`);
}

/**
 * Lists then watches the release's pods until `check` says done. A watch that disconnects (or
 * answers 410 Gone) is resumed from a fresh list, as client-go's reflector does.
 */
async function waitForPods(
  api: ClusterApi,
  ns: string,
  labelSelector: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  log: (l: string) => void,
  check: (pods: Map<string, V1Pod>) => { done: boolean; line: string },
): Promise<Map<string, V1Pod>> {
  const deadline = Date.now() + timeoutMs;
  const pods = new Map<string, V1Pod>();
  let lastLine = '';
  const evaluate = () => {
    const r = check(pods);
    if (r.line !== lastLine) {
      lastLine = r.line;
      log(r.line);
    }
    return r.done;
  };
  for (;;) {
    const list = await api.call({ verb: 'list', resource: 'pods' }, () =>
      api.core.listNamespacedPod({ namespace: ns, labelSelector }),
    );
    pods.clear();
    for (const p of list.items) pods.set(p.metadata!.name!, p);
    if (evaluate()) return pods;
    if (signal?.aborted) throw new PodsNotReadyError('interrupted while waiting for the pods');
    if (Date.now() >= deadline)
      throw new PodsNotReadyError(
        `pods not ready after ${Math.round(timeoutMs / 1000)} s: ${lastLine.replace(/^kubernetes: /, '')}`,
      );
    const path = `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`;
    const outcome = await new Promise<'done' | 'resync' | Error>((resolve) => {
      let controller: AbortController | undefined;
      let settled = false;
      const settle = (v: 'done' | 'resync' | Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        controller?.abort();
        resolve(v);
      };
      const onAbort = () => settle('resync');
      const timer = setTimeout(() => settle('resync'), Math.max(0, deadline - Date.now()));
      signal?.addEventListener('abort', onAbort, { once: true });
      api.watcher
        .watch(
          path,
          { labelSelector, resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
          (type, obj: V1Pod) => {
            if (type === 'ERROR') return settle('resync'); // e.g. 410 Gone: the resourceVersion is too old
            if (type === 'BOOKMARK') return;
            const name = obj.metadata?.name;
            if (!name) return;
            if (type === 'DELETED') pods.delete(name);
            else pods.set(name, obj);
            if (evaluate()) settle('done');
          },
          (err: unknown) => settle(err ? api.toError(err, { verb: 'watch', resource: 'pods' }) : 'resync'),
        )
        .then(
          (c) => {
            controller = c;
            if (settled) c.abort();
          },
          (err: unknown) => settle(api.toError(err, { verb: 'watch', resource: 'pods' })),
        );
    });
    if (outcome === 'done') return pods;
    if (outcome instanceof Error) {
      // A dropped connection is resumed; a refusal (401/403/unreachable) is the user's to fix.
      if (
        outcome instanceof UnauthorizedError ||
        outcome instanceof ForbiddenError ||
        outcome instanceof ApiUnreachableError
      )
        throw outcome;
      log(`kubernetes: pod watch ended (${outcome.message}); listing again`);
    }
  }
}

async function helmInstall(args: string[], log: (l: string) => void): Promise<void> {
  const script = join(PACKAGE_ROOT, 'scripts', 'helm.mjs');
  if (!existsSync(script))
    throw new KubernetesError(
      `--install needs scripts/helm.mjs of a livepath checkout (not in ${PACKAGE_ROOT}); run \`helm ${args.join(' ')}\` yourself`,
    );
  const helm = (await import(pathToFileURL(script).href)) as {
    runHelm(args: string[]): { status: number; stdout: string; stderr: string };
  };
  log(`kubernetes: helm ${args.join(' ')}`);
  const r = helm.runHelm(args);
  if (r.status !== 0)
    throw new KubernetesError(`helm install failed: ${(r.stderr || r.stdout).trim().split('\n').at(-1)}`);
}
