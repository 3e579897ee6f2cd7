// Step 1: the release. Finds the chart's objects (the peers StatefulSet, the origin, edge and
// tracker Deployments, by the chart's names and labels), installs the release with the run's
// scenario and image when asked to, and checks that it deploys the nodes the scenario has.
import type { V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import type { RunPlan } from '../../../core/types.js';
import { runHelm } from '../../helm.js';
import { CONTAINER, FLAG, helmInstallArgs, LABEL, LINK_SHAPING_ENV, releaseNames, type Role } from './chart.js';
import { ApiStatusError, type ClusterApi } from './cluster.js';
import { KubernetesError, ReleaseMismatchError, ReleaseNotFoundError } from './errors.js';

export interface ReleaseRef {
  release: string;
  namespace: string;
  scenarioPath: string;
  /** image for --install (default: the chart's) */
  image?: string;
  context?: string;
}

export interface FoundRelease {
  peers: V1StatefulSet;
  byRole(role: Role): V1Deployment[];
  /** how the release shapes links (the services' LIVEPATH_LINK_SHAPING) */
  linkShaping: string;
}

export function argValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

function installCommand(r: ReleaseRef): string[] {
  return [
    ...helmInstallArgs({ release: r.release, namespace: r.namespace, scenarioPath: r.scenarioPath, image: r.image }),
    ...(r.context ? ['--kube-context', r.context] : []),
  ];
}

export async function findRelease(
  api: ClusterApi,
  r: ReleaseRef,
  plan: RunPlan,
  o: { install?: boolean; log: (l: string) => void },
): Promise<FoundRelease> {
  const names = releaseNames(r.release);
  const ns = r.namespace;
  const readPeers = () =>
    api.call({ verb: 'get', resource: 'statefulsets', name: names.peers }, () =>
      api.apps.readNamespacedStatefulSet({ name: names.peers, namespace: ns }),
    );
  let peers: V1StatefulSet;
  try {
    peers = await readPeers();
  } catch (e) {
    if (!(e instanceof ApiStatusError && e.code === 404)) throw e;
    const args = installCommand(r);
    if (!o.install)
      throw new ReleaseNotFoundError(r.release, ns, `no StatefulSet ${names.peers}`, `helm ${args.join(' ')}`);
    o.log(`kubernetes: helm ${args.join(' ')}`);
    const h = await runHelm(args);
    if (h.status !== 0)
      throw new KubernetesError(`helm install failed: ${(h.stderr || h.stdout).trim().split('\n').at(-1)}`);
    peers = await readPeers();
  }
  const deployments = await api.call({ verb: 'list', resource: 'deployments' }, () =>
    api.apps.listNamespacedDeployment({ namespace: ns, labelSelector: names.selector }),
  );
  const byRole = (role: Role) => deployments.items.filter((d) => d.metadata?.labels?.[LABEL.role] === role);
  const origin = byRole('origin')[0];
  if (!origin)
    throw new ReleaseNotFoundError(r.release, ns, 'no origin Deployment', `helm ${installCommand(r).join(' ')}`);
  const originContainer = origin.spec?.template.spec?.containers.find((c) => c.name === CONTAINER.origin);
  const originId = argValue(originContainer?.args ?? [], FLAG.node) ?? plan.originId;
  const edgeIds = new Set(byRole('edge').map((d) => d.metadata?.labels?.[LABEL.node] ?? ''));
  const missing = plan.edges.map((e) => e.id).filter((id) => !edgeIds.has(id));
  if (originId !== plan.originId || missing.length > 0) {
    throw new ReleaseMismatchError(
      `release "${r.release}" does not deploy the nodes scenario "${plan.scenarioName}" needs (${originId !== plan.originId ? `origin "${plan.originId}", release has "${originId}"` : `edges ${missing.join(', ')}`}): install it with this scenario (helm upgrade --set-file scenarioFile=${r.scenarioPath}; the chart reads its nodes from the scenario)`,
    );
  }
  // The tracker publishes the stream's clock every viewer host (and this backend) runs on.
  if (byRole('tracker').length === 0)
    throw new ReleaseMismatchError(
      `release "${r.release}" has no tracker Deployment: the viewers take the stream's clock from it`,
    );
  const linkShaping = originContainer?.env?.find((e) => e.name === LINK_SHAPING_ENV)?.value ?? 'linkemu';
  return { peers, byRole, linkShaping };
}
