// `livepath run --backend kubernetes`: runs one mode of a scenario on a cluster where the chart
// (charts/livepath) is installed. The services run as the chart deploys them (standalone: the
// origin streams, the tracker publishes the stream's clock, every peers pod schedules its viewers
// on it); this backend drives the cluster through the API, one step per module:
//   release.ts  find the release (or install it with the run's scenario and image)
//   scale.ts    point it at the run: scenario, --mode, --viewers-per-host, replicas
//   start.ts    replace every pod, wait until they stream, read the run's clock from the tracker
//   churn.ts    delete peers pods at the scenario's kill times
//   collect.ts  copy every pod's raw records out through the exec API
//   restore.ts  put back what the run changed
// The chart's names (labels, containers, flags, files) come from chart.ts.
import { mkdirSync } from 'node:fs';
import type { Backend, BackendRunOptions, RawRunInfo } from '../index.js';
import { chunkCount } from '../../../results/chunks.js';
import { DRAIN_GRACE_MS } from '../../constants.js';
import { LABEL, releaseNames } from './chart.js';
import { PodsNotReadyError } from './errors.js';
import { ClusterApi, loadCluster, sleep } from './cluster.js';
import { collectPod } from './collect.js';
import { playChurn, procName } from './churn.js';
import { findRelease } from './release.js';
import { Restore } from './restore.js';
import { pointRelease } from './scale.js';
import { freshStart, runClock } from './start.js';

export * from './errors.js';
export { churnPodKills } from './churn.js';
export { loadCluster, type ClusterTarget } from './cluster.js';
export { helmInstallArgs, releaseNames } from './chart.js';

/** How long pods may take to become ready after the restart (image pulls on a fresh node). */
const READY_TIMEOUT_MS = 300_000;

export interface KubernetesBackendOptions {
  /** kubeconfig context (default: the current one) */
  context?: string;
  /** namespace (default: the context's, else "default") */
  namespace?: string;
  /** Helm release name (default "livepath") */
  release?: string;
  /** run `helm install` (the bundled helm, else helm on PATH) when the release is missing */
  install?: boolean;
  /** image the release runs, for --install (default: the chart's, livepath:<appVersion>) */
  image?: string;
  /** progress lines (default: stderr) */
  log?: (line: string) => void;
  readyTimeoutMs?: number;
  /** wait after the last chunk before collecting (default: DRAIN_GRACE_MS + 3 × the largest bound) */
  drainMs?: number;
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
  const ref = { release, namespace: ns, scenarioPath: o.scenarioPath, image: k.image, context: k.context };

  const found = await findRelease(api, ref, plan, { install: k.install, log });
  const restore = new Restore();
  const chunkUs = plan.stream.chunkDurationUs;
  const total = chunkCount(plan);
  let startUs = Date.now() * 1000;
  let produced = 0;
  try {
    const scaled = await pointRelease(
      api,
      ref,
      found.peers,
      { plan, mode: o.mode, viewersPerHost: o.viewersPerHost },
      restore,
      log,
    );
    const timeouts = { readyTimeoutMs: k.readyTimeoutMs ?? READY_TIMEOUT_MS, signal: o.signal, log };
    const { pods, replaced } = await freshStart(
      api,
      ns,
      names.selector,
      { edges: plan.edges.length, hosts: scaled.hosts, peerPods: scaled.peerPods },
      timeouts,
    );
    startUs = (await runClock(api, ns, pods, { timeoutMs: timeouts.readyTimeoutMs, signal: o.signal, log })).startUs;
    // Viewers record the stream's first durationS only: pods ready after it have nothing to measure.
    const readyAtS = (Date.now() * 1000 - startUs) / 1e6;
    if (readyAtS >= plan.durationS)
      throw new PodsNotReadyError(
        `the pods were ready ${readyAtS.toFixed(1)} s into the stream, after the run's ${plan.durationS} s: give the scenario a longer durationS (or the release shorter probes.periodSeconds)`,
      );
    const progress = () => {
      produced = Math.max(0, Math.min(total, Math.floor((Date.now() * 1000 - startUs) / chunkUs)));
      o.onProgress?.({ produced, total, received: 0 });
    };
    const tick = setInterval(progress, 1_000);
    const generation = new Map<string, number>();
    try {
      await playChurn(
        api,
        ns,
        { plan, perHost: scaled.perHost, peerPods: scaled.peerPods, startUs, rawDir: o.rawDir },
        pods,
        generation,
        { signal: o.signal, log },
      );
      const maxBoundMs = Math.max(0, ...plan.viewers.map((v) => v.boundMs));
      await sleep(
        startUs / 1000 + plan.durationS * 1000 + (k.drainMs ?? DRAIN_GRACE_MS + 3 * maxBoundMs) - Date.now(),
        o.signal,
      );
    } finally {
      clearInterval(tick);
    }
    progress();

    // Collect every pod's records (peers: the viewers; origin: ingest samples; tracker: its clock and decisions).
    const now = await api.call({ verb: 'list', resource: 'pods' }, () =>
      api.core.listNamespacedPod({ namespace: ns, labelSelector: names.selector }),
    );
    for (const p of now.items) {
      if (p.metadata?.deletionTimestamp || p.status?.phase !== 'Running' || replaced.has(p.metadata?.uid ?? ''))
        continue;
      const role = p.metadata?.labels?.[LABEL.role];
      const name = p.metadata!.name!;
      const proc =
        role === 'peer'
          ? procName(name, generation.get(name) ?? 0)
          : role === 'edge'
            ? (p.metadata?.labels?.[LABEL.node] ?? name)
            : (role ?? name);
      await collectPod(api, ns, p, proc, o.rawDir, log);
    }
  } finally {
    await restore.run(log);
  }
  return {
    plan,
    mode: o.mode,
    backend: 'kubernetes',
    chunksProduced: produced,
    startUs,
    extra: { linkShaping: found.linkShaping },
  };
}
