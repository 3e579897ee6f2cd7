// The chart rendered by `helm template` as `helm install` would create it: the objects, and the
// test hooks `helm test` runs. Only what `livepath up` reads of each kind is typed here.
import { parseAllDocuments } from 'yaml';
import { CHART_DIR, runHelm } from '../helm.js';
import type { EnvContainer } from './env.js';
import type { ProbeSpec } from './probes.js';

export interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface ContainerSpec extends EnvContainer {
  image: string;
  ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
  volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string; readOnly?: boolean }>;
  livenessProbe?: ProbeSpec;
  readinessProbe?: ProbeSpec;
  startupProbe?: ProbeSpec;
  workingDir?: string;
}

export interface VolumeSpec {
  name: string;
  emptyDir?: object;
  configMap?: { name: string; items?: Array<{ key: string; path: string }>; optional?: boolean };
  secret?: { secretName: string; items?: Array<{ key: string; path: string }>; optional?: boolean };
}

export interface PodSpec {
  containers: ContainerSpec[];
  initContainers?: ContainerSpec[];
  volumes?: VolumeSpec[];
  serviceAccountName?: string;
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  terminationGracePeriodSeconds?: number;
  activeDeadlineSeconds?: number;
  hostname?: string;
  subdomain?: string;
}

export interface Workload {
  kind: 'Deployment' | 'StatefulSet';
  metadata: Meta;
  spec: {
    replicas?: number;
    serviceName?: string;
    selector: { matchLabels?: Record<string, string> };
    template: { metadata?: Meta; spec: PodSpec };
  };
}

export interface ServiceSpec {
  metadata: Meta;
  spec: {
    clusterIP?: string;
    selector?: Record<string, string>;
    publishNotReadyAddresses?: boolean;
    ports?: Array<{ name?: string; port: number; targetPort?: number | string; protocol?: string }>;
  };
}

export interface BarePod {
  metadata: Meta;
  spec: PodSpec;
}

export interface Release {
  release: string;
  namespace: string;
  workloads: Workload[];
  services: ServiceSpec[];
  configMaps: Map<string, Record<string, string>>;
  secrets: Map<string, Record<string, string>>;
  /** `helm test` pods (helm.sh/hook: test) */
  testHooks: BarePod[];
  /** kinds rendered that `up` does not run, with how many of each (e.g. ServiceMonitor) */
  skipped: Map<string, number>;
}

export class ChartRenderError extends Error {}

interface RawObject {
  apiVersion?: string;
  kind?: string;
  metadata?: Meta;
  spec?: unknown;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** Parses `helm template` output into what `up` runs. */
export function parseRelease(yamlText: string, release: string, namespace: string): Release {
  const r: Release = {
    release,
    namespace,
    workloads: [],
    services: [],
    configMaps: new Map(),
    secrets: new Map(),
    testHooks: [],
    skipped: new Map(),
  };
  for (const doc of parseAllDocuments(yamlText)) {
    const o = doc.toJS() as RawObject | null;
    if (!o?.kind || !o.metadata) continue;
    const hook = o.metadata.annotations?.['helm.sh/hook'];
    if (hook) {
      if (o.kind === 'Pod' && hook.split(',').includes('test')) r.testHooks.push(o as BarePod);
      else r.skipped.set(`${o.kind} (hook ${hook})`, (r.skipped.get(`${o.kind} (hook ${hook})`) ?? 0) + 1);
      continue;
    }
    switch (o.kind) {
      case 'Deployment':
      case 'StatefulSet':
        r.workloads.push(o as Workload);
        break;
      case 'Service':
        r.services.push(o as ServiceSpec);
        break;
      case 'ConfigMap':
        r.configMaps.set(o.metadata.name, { ...(o.data ?? {}) });
        break;
      case 'Secret': {
        const data: Record<string, string> = {};
        for (const [k, v] of Object.entries(o.data ?? {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
        Object.assign(data, o.stringData ?? {});
        r.secrets.set(o.metadata.name, data);
        break;
      }
      default:
        r.skipped.set(o.kind, (r.skipped.get(o.kind) ?? 0) + 1);
    }
  }
  return r;
}

export interface RenderOptions {
  release: string;
  namespace: string;
  chart?: string;
  /** -f files, in order */
  values?: string[];
  /** --set k=v, in order */
  set?: string[];
  /** --set-file k=path, in order */
  setFile?: string[];
  helm?: string;
}

/** `helm template` with the user's values, as `helm install` would render the release. */
export async function renderRelease(o: RenderOptions): Promise<Release> {
  const args = ['template', o.release, o.chart ?? CHART_DIR, '--namespace', o.namespace];
  for (const f of o.values ?? []) args.push('-f', f);
  for (const s of o.set ?? []) args.push('--set', s);
  for (const s of o.setFile ?? []) args.push('--set-file', s);
  const r = await runHelm(args, { helm: o.helm });
  if (r.status !== 0) {
    const why = r.stderr.trim().split('\n').filter(Boolean).at(-1) ?? `exit ${r.status}`;
    throw new ChartRenderError(`helm template failed: ${why.replace(/^Error: /, '')}`);
  }
  return parseRelease(r.stdout, o.release, o.namespace);
}
