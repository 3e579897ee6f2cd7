// The names charts/livepath gives a release's objects, labels, containers, files and flags, in one
// place: the backend finds and drives a release by them, and test/unit/chart.test.ts checks that
// the rendered chart uses them (a rename on one side fails there, not on a user's cluster).
import { CHART_DIR } from '../../helm.js';

export { CHART_DIR };

/** Labels every livepath pod and Service carries (templates/_helpers.tpl: livepath.componentLabels). */
export const LABEL = {
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  role: 'livepath.io/role',
  node: 'livepath.io/node',
  region: 'livepath.io/region',
  job: 'livepath.io/job',
  /** set by the StatefulSet controller: the peers pod's ordinal, its viewer slice */
  podIndex: 'apps.kubernetes.io/pod-index',
} as const;

/** Edge Deployments carry their parent as an annotation. */
export const PARENT_ANNOTATION = 'livepath.io/parent';

/** Values of livepath.io/role. */
export const ROLES = ['origin', 'edge', 'tracker', 'peer'] as const;
export type Role = (typeof ROLES)[number];

/** The livepath container of each role's pod. */
export const CONTAINER: Record<Role, string> = { origin: 'origin', edge: 'edge', tracker: 'tracker', peer: 'peers' };

/** Flags of the containers' args that the backend reads or changes. */
export const FLAG = {
  node: '--node',
  mode: '--mode',
  viewersPerHost: '--viewers-per-host',
  viewerIndex: '--viewer-index',
  directory: '--directory',
  tracker: '--tracker',
} as const;

/** Key of the scenario in its ConfigMap; where every role reads it. */
export const SCENARIO_KEY = 'scenario.yaml';
export const SCENARIO_PATH = `/etc/livepath/${SCENARIO_KEY}`;
/** node inside the livepath image (Dockerfile: gcr.io/distroless/nodejs20, ENTRYPOINT). */
export const POD_NODE = '/nodejs/bin/node';
/** where every role writes raw records (LIVEPATH_RESULTS_DIR, the results emptyDir) */
export const POD_RESULTS_DIR = '/app/results';
/** the env var through which the chart tells the services how links are shaped */
export const LINK_SHAPING_ENV = 'LIVEPATH_LINK_SHAPING';

/** Names the chart gives a release's objects (templates/_helpers.tpl: livepath.fullname). */
export function releaseNames(release: string) {
  const fullname = (release.includes('livepath') ? release : `${release}-livepath`).slice(0, 63).replace(/-+$/, '');
  return {
    fullname,
    peers: `${fullname}-peers`,
    scenario: `${fullname}-scenario`,
    tracker: `${fullname}-tracker`,
    origin: `${fullname}-origin`,
    edge: (id: string) => `${fullname}-${id}`,
    /** every livepath pod of the release (not Prometheus/Grafana, which have no role) */
    selector: `${LABEL.instance}=${release},${LABEL.role}`,
  };
}

/** An image reference split as the chart's values take it (image.repository, image.tag). */
export function imageValues(image: string): string[] {
  const at = image.lastIndexOf(':');
  const slash = image.lastIndexOf('/');
  if (at <= slash) return ['--set', `image.repository=${image}`];
  return ['--set', `image.repository=${image.slice(0, at)}`, '--set', `image.tag=${image.slice(at + 1)}`];
}

/** `helm install` of a release that runs `scenarioPath`, from the image given (else the chart's default). */
export function helmInstallArgs(o: {
  release: string;
  namespace: string;
  scenarioPath: string;
  image?: string;
}): string[] {
  return [
    'install',
    o.release,
    CHART_DIR,
    '--namespace',
    o.namespace,
    '--create-namespace',
    '--set-file',
    `scenarioFile=${o.scenarioPath}`,
    ...(o.image ? imageValues(o.image) : []),
    '--wait',
  ];
}
