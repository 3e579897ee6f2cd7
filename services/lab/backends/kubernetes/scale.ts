// Step 2: point the release at the run. The scenario ConfigMap gets the run's scenario, the peers
// get --mode and --viewers-per-host, and the StatefulSet is scaled to ⌈viewers ÷ per host⌉ pods;
// each change is remembered for the restore step.
import { readFileSync } from 'node:fs';
import { PatchStrategy, setHeaderOptions, type V1StatefulSet } from '@kubernetes/client-node';
import type { Mode, RunPlan } from '../../../core/types.js';
import { CONTAINER, FLAG, helmInstallArgs, releaseNames, SCENARIO_KEY } from './chart.js';
import { ApiStatusError, type ClusterApi } from './cluster.js';
import { ConflictError, ReleaseMismatchError, ReleaseNotFoundError, type CallSite } from './errors.js';
import { argValue } from './release.js';
import type { Restore } from './restore.js';

/** Optimistic-concurrency retries of a patch that met a 409 (someone else changed the object). */
const CONFLICT_RETRIES = 3;

export interface Scaled {
  perHost: number;
  hosts: number;
  /** the peers pods' names, by ordinal */
  peerPods: string[];
}

function withArg(args: string[], flag: string, value: string): string[] {
  const i = args.indexOf(flag);
  return i >= 0 ? args.map((a, j) => (j === i + 1 ? value : a)) : [...args, flag, value];
}

export async function pointRelease(
  api: ClusterApi,
  r: { release: string; namespace: string; scenarioPath: string },
  peers: V1StatefulSet,
  run: { plan: RunPlan; mode: Mode; viewersPerHost?: number },
  restore: Restore,
  log: (l: string) => void,
): Promise<Scaled> {
  const names = releaseNames(r.release);
  const ns = r.namespace;
  const { plan } = run;
  const scenarioText = readFileSync(r.scenarioPath, 'utf8');
  const cmSite: CallSite = { verb: 'get', resource: 'configmaps', name: names.scenario };
  const cm = await api
    .call(cmSite, () => api.core.readNamespacedConfigMap({ name: names.scenario, namespace: ns }))
    .catch((e: unknown) => {
      if (e instanceof ApiStatusError && e.code === 404)
        throw new ReleaseNotFoundError(
          r.release,
          ns,
          `no ConfigMap ${names.scenario}`,
          `helm ${helmInstallArgs({ release: r.release, namespace: ns, scenarioPath: r.scenarioPath }).join(' ')}`,
        );
      throw e;
    });
  const before = cm.data?.[SCENARIO_KEY];
  if (before !== scenarioText) {
    log(
      `kubernetes: the release runs another scenario; setting ConfigMap ${names.scenario} to ${r.scenarioPath} for this run`,
    );
    await patchConfigMap(api, ns, names.scenario, scenarioText);
    restore.push(`ConfigMap ${names.scenario}`, () => patchConfigMap(api, ns, names.scenario, before ?? ''));
  }

  const container =
    peers.spec?.template.spec?.containers.find((c) => c.name === CONTAINER.peer) ??
    peers.spec?.template.spec?.containers[0];
  if (!container) throw new ReleaseMismatchError(`StatefulSet ${names.peers} has no container`);
  const oldArgs = container.args ?? [];
  const perHost = run.viewersPerHost ?? Number(argValue(oldArgs, FLAG.viewersPerHost) ?? 50);
  const hosts = Math.max(1, Math.ceil(plan.viewers.length / perHost));
  let args = withArg(oldArgs, FLAG.mode, run.mode);
  args = withArg(args, FLAG.viewersPerHost, String(perHost));
  if (args.join('\0') !== oldArgs.join('\0')) {
    log(`kubernetes: peers → ${FLAG.mode} ${run.mode} ${FLAG.viewersPerHost} ${perHost}`);
    await patchPeersArgs(api, ns, names.peers, container.name, args);
    restore.push(`the args of StatefulSet ${names.peers}`, () =>
      patchPeersArgs(api, ns, names.peers, container.name, oldArgs),
    );
  }
  const oldReplicas = peers.spec?.replicas ?? 1;
  await scale(api, ns, names.peers, hosts);
  if (oldReplicas !== hosts)
    restore.push(`the replicas of ${names.peers}`, () => scale(api, ns, names.peers, oldReplicas));
  log(`kubernetes: ${plan.viewers.length} viewers on ${hosts} peer pods (${perHost} each)`);
  return { perHost, hosts, peerPods: Array.from({ length: hosts }, (_, i) => `${names.peers}-${i}`) };
}

function scale(api: ClusterApi, ns: string, name: string, replicas: number): Promise<unknown> {
  return api.call({ verb: 'patch', resource: 'statefulsets/scale', name }, () =>
    api.apps.patchNamespacedStatefulSetScale(
      { name, namespace: ns, body: { spec: { replicas } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ),
  );
}

async function patchConfigMap(api: ClusterApi, ns: string, name: string, text: string): Promise<void> {
  await api.call({ verb: 'patch', resource: 'configmaps', name }, () =>
    api.core.patchNamespacedConfigMap(
      { name, namespace: ns, body: { data: { [SCENARIO_KEY]: text } } },
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
