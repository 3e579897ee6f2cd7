// A container's environment and arguments as the kubelet makes them: service links, downward-API
// fields, ConfigMap/Secret keys, and `$(VAR)` expansion with the kubelet's rules (an env value
// sees only the variables defined before it; command and args see them all; `$$` is a literal `$`;
// an undefined `$(VAR)` stays as written). Pure: the caller gives the pod's identity and objects.

/** The subset of a rendered container this module reads. */
export interface EnvContainer {
  name: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: Array<{
    prefix?: string;
    configMapRef?: { name: string; optional?: boolean };
    secretRef?: { name: string; optional?: boolean };
  }>;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    resourceFieldRef?: { resource: string };
  };
}

/** What the downward API can tell a container about its pod. */
export interface PodFields {
  name: string;
  namespace: string;
  uid: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  podIP: string;
  hostIP: string;
  nodeName: string;
  serviceAccountName: string;
}

export interface EnvSources {
  /** ConfigMaps of the release by name: key → value */
  configMaps: ReadonlyMap<string, Record<string, string>>;
  /** Secrets of the release by name: key → decoded value */
  secrets: ReadonlyMap<string, Record<string, string>>;
  /** the `<SVC>_SERVICE_HOST`… variables of the namespace's Services (see serviceLinkEnv) */
  serviceEnv: ReadonlyMap<string, string>;
}

/** A container asks for something the kubelet would refuse, or that `livepath up` cannot give. */
export class ContainerEnvError extends Error {}

/** The kubelet's `$(VAR)` expansion (k8s third_party/forked/golang/expansion). */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === '$') out += '$';
    else if (rest[0] === '(') {
      const close = rest.indexOf(')');
      if (close < 0) out += '$(';
      else {
        const name = rest.slice(1, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close + 1;
      }
    } else out += `$${rest[0]}`;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** A downward-API fieldPath of an env var (the paths the kubelet supports for env). */
export function fieldValue(pod: PodFields, path: string): string {
  const m = /^metadata\.(labels|annotations)\['([^']+)'\]$/.exec(path);
  if (m) return (m[1] === 'labels' ? pod.labels : pod.annotations)[m[2]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.name;
    case 'metadata.namespace':
      return pod.namespace;
    case 'metadata.uid':
      return pod.uid;
    case 'spec.nodeName':
      return pod.nodeName;
    case 'spec.serviceAccountName':
      return pod.serviceAccountName;
    case 'status.podIP':
    case 'status.podIPs':
      return pod.podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return pod.hostIP;
    default:
      throw new ContainerEnvError(
        `fieldRef.fieldPath "${path}" is not one the kubelet supports in env (metadata.name, metadata.namespace, metadata.uid, metadata.labels['…'], metadata.annotations['…'], spec.nodeName, spec.serviceAccountName, status.podIP, status.hostIP)`,
      );
  }
}

/** Service links: what the kubelet adds for every Service with a cluster IP (enableServiceLinks). */
export function serviceLinkEnv(
  services: Array<{
    name: string;
    clusterIP: string;
    ports: Array<{ name?: string; port: number; protocol?: string }>;
  }>,
): Map<string, string> {
  const env = new Map<string, string>();
  for (const s of services) {
    if (!s.clusterIP || s.clusterIP === 'None' || s.ports.length === 0) continue;
    const name = s.name.toUpperCase().replace(/-/g, '_');
    const first = s.ports[0]!;
    env.set(`${name}_SERVICE_HOST`, s.clusterIP);
    env.set(`${name}_SERVICE_PORT`, String(first.port));
    for (const p of s.ports)
      if (p.name) env.set(`${name}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`, String(p.port));
    env.set(`${name}_PORT`, `${(first.protocol ?? 'TCP').toLowerCase()}://${s.clusterIP}:${first.port}`);
    for (const p of s.ports) {
      const proto = (p.protocol ?? 'TCP').toUpperCase();
      const prefix = `${name}_PORT_${p.port}_${proto}`;
      env.set(prefix, `${proto.toLowerCase()}://${s.clusterIP}:${p.port}`);
      env.set(`${prefix}_PROTO`, proto.toLowerCase());
      env.set(`${prefix}_PORT`, String(p.port));
      env.set(`${prefix}_ADDR`, s.clusterIP);
    }
  }
  return env;
}

function keyRef(
  kind: 'ConfigMap' | 'Secret',
  objects: ReadonlyMap<string, Record<string, string>>,
  ref: { name: string; key: string; optional?: boolean },
  container: string,
  variable: string,
): string | undefined {
  const obj = objects.get(ref.name);
  const v = obj?.[ref.key];
  if (v === undefined && !ref.optional)
    throw new ContainerEnvError(
      `container "${container}": env ${variable} needs key "${ref.key}" of ${kind} "${ref.name}", which the release ${obj ? 'has without that key' : 'does not create'}`,
    );
  return v;
}

/**
 * The container's environment in the kubelet's order: envFrom, then env (each value expanded
 * against what is defined so far, service links included), then the service links not overridden.
 */
export function containerEnv(c: EnvContainer, pod: PodFields, src: EnvSources): Map<string, string> {
  const env = new Map<string, string>();
  const lookup = (name: string) => env.get(name) ?? src.serviceEnv.get(name);
  for (const from of c.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const obj = (from.configMapRef ? src.configMaps : src.secrets).get(ref.name);
    if (!obj && !ref.optional)
      throw new ContainerEnvError(
        `container "${c.name}": envFrom names ${from.configMapRef ? 'ConfigMap' : 'Secret'} "${ref.name}", which the release does not create`,
      );
    for (const [k, v] of Object.entries(obj ?? {})) env.set(`${from.prefix ?? ''}${k}`, v);
  }
  for (const e of c.env ?? []) {
    let v: string | undefined;
    if (e.value !== undefined && e.value !== '') v = expand(e.value, lookup);
    else if (e.valueFrom?.fieldRef) v = fieldValue(pod, e.valueFrom.fieldRef.fieldPath);
    else if (e.valueFrom?.configMapKeyRef)
      v = keyRef('ConfigMap', src.configMaps, e.valueFrom.configMapKeyRef, c.name, e.name);
    else if (e.valueFrom?.secretKeyRef) v = keyRef('Secret', src.secrets, e.valueFrom.secretKeyRef, c.name, e.name);
    else if (e.valueFrom?.resourceFieldRef)
      throw new ContainerEnvError(
        `container "${c.name}": env ${e.name} uses resourceFieldRef, which livepath up does not emulate`,
      );
    else v = '';
    if (v !== undefined) env.set(e.name, v);
  }
  for (const [k, v] of src.serviceEnv) if (!env.has(k)) env.set(k, v);
  return env;
}

/** command and args with `$(VAR)` expanded against the container's whole environment. */
export function expandCommand(
  c: EnvContainer,
  env: ReadonlyMap<string, string>,
): { command?: string[]; args: string[] } {
  const lookup = (name: string) => env.get(name);
  return {
    ...(c.command && { command: c.command.map((a) => expand(a, lookup)) }),
    args: (c.args ?? []).map((a) => expand(a, lookup)),
  };
}
