// The Helm chart, checked without a cluster: helm lint --strict, helm template on the default and
// every ci/*.yaml values file, each rendered object against the Kubernetes OpenAPI schemas
// (kubernetes-models), and the properties the chart promises (netem, security, dashboards, schema).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { runHelm } from '../../scripts/helm.mjs';
import { parseScenario } from '../../services/core/scenario/index.js';
import { LINK_SHAPINGS } from '../../services/core/types.js';
import { LIVENESS_SERVICES, READINESS_SERVICE } from '../../services/runtime/grpc.js';
import { containerEnv, expandCommand, type EnvContainer } from '../../services/lab/up/env.js';
import { loadPlan } from '../../services/runtime/plan.js';
import {
  CHART_DIR,
  CONTAINER,
  FLAG,
  helmInstallArgs,
  LABEL,
  LINK_SHAPING_ENV,
  PARENT_ANNOTATION,
  POD_NODE,
  POD_RESULTS_DIR,
  ROLES,
  releaseNames,
  SCENARIO_KEY,
  SCENARIO_PATH,
  type Role,
} from '../../services/lab/backends/kubernetes/chart.js';

const chartDir = 'charts/livepath';
const ciFiles = readdirSync(join(chartDir, 'ci'))
  .filter((f) => f.endsWith('.yaml'))
  .sort();

// Loose shapes of what the tests read from rendered manifests.
interface Container {
  name: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
  };
  livenessProbe?: { grpc?: { port: number; service?: string } };
  readinessProbe?: { grpc?: { port: number; service?: string } };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: { runAsNonRoot?: boolean };
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { replicas?: number; template?: { spec: PodSpec } } & Partial<PodSpec> & Record<string, unknown>;
  data?: Record<string, string>;
}

function render(args: string[] = []): Manifest[] {
  const r = runHelm(['template', 'lp', chartDir, '--namespace', 'livepath-test', ...args]);
  assert.equal(r.status, 0, `helm template ${args.join(' ')} failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

/** Pod specs of workloads and bare pods (the helm test pod), keyed by "Kind/name". */
function podSpecs(manifests: Manifest[]): [string, PodSpec][] {
  const out: [string, PodSpec][] = [];
  for (const m of manifests) {
    if (m.kind === 'Pod') out.push([`Pod/${m.metadata.name}`, m.spec as unknown as PodSpec]);
    else if (m.spec?.template?.spec) out.push([`${m.kind}/${m.metadata.name}`, m.spec.template.spec]);
  }
  return out;
}

const allContainers = (spec: PodSpec): Container[] => [...(spec.initContainers ?? []), ...spec.containers];
const find = (ms: Manifest[], kind: string, name: string): Manifest => {
  const m = ms.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(m, `no ${kind}/${name} rendered; have ${ms.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return m;
};

/** Everything optional switched on at once: the widest rendering. */
const everythingOn = ['-f', join(chartDir, 'ci/monitoring-values.yaml'), '-f', join(chartDir, 'ci/netem-values.yaml')];

test('helm lint --strict passes on the defaults and on every ci/*.yaml', () => {
  assert.ok(ciFiles.length >= 4, `expected ci/ values files, found ${ciFiles.join(', ')}`);
  for (const extra of [[], ...ciFiles.map((f) => ['-f', join(chartDir, 'ci', f)])]) {
    const r = runHelm(['lint', '--strict', chartDir, ...extra]);
    assert.equal(r.status, 0, `helm lint --strict ${extra.join(' ')}:\n${r.stdout}${r.stderr}`);
  }
});

test('every rendered object validates against the Kubernetes OpenAPI schema', async () => {
  for (const extra of [[], everythingOn, ...ciFiles.map((f) => ['-f', join(chartDir, 'ci', f)])]) {
    const manifests = render(extra);
    assert.ok(manifests.length > 0);
    for (const m of manifests) {
      // ServiceMonitor is a Prometheus Operator CRD: kubernetes-models only has the built-in
      // API groups, and the CRD's schema is not installed here. Its shape is asserted below.
      if (m.kind === 'ServiceMonitor') continue;
      const [group, version] = m.apiVersion.includes('/') ? m.apiVersion.split('/') : [undefined, m.apiVersion];
      const modulePath = group
        ? `kubernetes-models/${group}/${version}/${m.kind}`
        : `kubernetes-models/${version}/${m.kind}`;
      const mod = (await import(modulePath)) as Record<string, new (o: unknown) => { validate(): void }>;
      const Model = mod[m.kind];
      assert.ok(Model, `kubernetes-models has no ${m.apiVersion} ${m.kind}`);
      assert.doesNotThrow(
        () => new Model(m).validate(),
        `${m.kind}/${m.metadata.name} (${extra.join(' ') || 'defaults'})`,
      );
    }
  }
});

test('the schema check itself catches a malformed object', async () => {
  // Guards the test above against validating nothing (e.g. a model that accepts anything).
  const { Deployment } = await import('kubernetes-models/apps/v1/Deployment');
  const bad = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x' },
    spec: { replicas: 'two', selector: {}, template: {} },
  };
  assert.throws(() => new Deployment(bad as never).validate(), /replicas/);
});

test('NET_ADMIN is added only with linkShaping=netem, and only to the netem init container', () => {
  for (const [name, spec] of podSpecs(render(['-f', join(chartDir, 'ci/monitoring-values.yaml')]))) {
    for (const c of allContainers(spec)) {
      assert.deepEqual(
        c.securityContext?.capabilities?.add ?? [],
        [],
        `${name}/${c.name} adds capabilities without netem`,
      );
    }
    assert.ok(
      !spec.initContainers?.some((c) => c.name === 'netem'),
      `${name} has a netem init container under linkemu`,
    );
  }
  const netem = render(everythingOn);
  const shaped = new Set<string>();
  for (const [name, spec] of podSpecs(netem)) {
    for (const c of allContainers(spec)) {
      const add = c.securityContext?.capabilities?.add ?? [];
      if (c.name === 'netem') {
        assert.deepEqual(add, ['NET_ADMIN'], `${name}/netem`);
        assert.equal(c.args?.includes('netem'), true);
        shaped.add(name);
      } else {
        assert.deepEqual(add, [], `${name}/${c.name} must not get capabilities`);
      }
    }
  }
  // Every process that sends or receives chunks is shaped: origin, each edge, the peers.
  assert.deepEqual([...shaped].sort(), [
    'Deployment/lp-livepath-edge-eu-west',
    'Deployment/lp-livepath-edge-us-east',
    'Deployment/lp-livepath-origin',
    'StatefulSet/lp-livepath-peers',
  ]);
  // The services learn which shaping is active (linkemu must not shape on top of netem), in the
  // CLI's own words: a value it rejects made every livepath container exit 1 under netem.
  const peers = find(netem, 'StatefulSet', 'lp-livepath-peers').spec!.template!.spec.containers[0];
  assert.equal(peers.env?.find((e) => e.name === 'LIVEPATH_LINK_SHAPING')?.value, 'kernel');
  for (const extra of [[], everythingOn, ...ciFiles.map((f) => ['-f', join(chartDir, 'ci', f)])]) {
    for (const [name, spec] of podSpecs(render(extra))) {
      for (const c of spec.containers) {
        const v = c.env?.find((e) => e.name === 'LIVEPATH_LINK_SHAPING')?.value;
        if (v !== undefined)
          assert.ok((LINK_SHAPINGS as readonly string[]).includes(v), `${name}/${c.name}: ${v} (${extra.join(' ')})`);
      }
    }
  }
});

test('every $(VAR) of a container resolves the way the kubelet expands it', () => {
  for (const extra of [[], everythingOn, ...ciFiles.map((f) => ['-f', join(chartDir, 'ci', f)])]) {
    for (const [name, spec] of podSpecs(render(extra))) {
      for (const c of allContainers(spec)) {
        const pod = {
          name: name.includes('peers') ? 'lp-livepath-peers-0' : 'pod',
          namespace: 'livepath-test',
          uid: 'uid',
          labels: { 'apps.kubernetes.io/pod-index': '0' },
          annotations: {},
          podIP: '10.0.0.2',
          hostIP: '10.0.0.1',
          nodeName: 'node',
          serviceAccountName: 'sa',
        };
        const env = containerEnv(c as EnvContainer, pod, {
          configMaps: new Map(),
          secrets: new Map(),
          serviceEnv: new Map(),
        });
        const { command, args } = expandCommand(c as EnvContainer, env);
        for (const [k, v] of env) assert.doesNotMatch(v, /\$\(/, `${name}/${c.name} env ${k}=${v}`);
        for (const a of [...(command ?? []), ...args]) assert.doesNotMatch(a, /\$\(/, `${name}/${c.name} arg ${a}`);
        if (name === 'StatefulSet/lp-livepath-peers' && c.name === 'peers') {
          assert.equal(
            env.get('LIVEPATH_ADVERTISE_ADDRESS'),
            'lp-livepath-peers-0.lp-livepath-peers.livepath-test.svc:7000',
          );
          assert.equal(args[args.indexOf('--viewer-index') + 1], '0');
        }
      }
    }
  }
});

test('every container runs non-root on a read-only root filesystem with ALL capabilities dropped', () => {
  const specs = podSpecs(render(everythingOn));
  assert.ok(specs.length >= 7);
  for (const [name, spec] of specs) {
    for (const c of allContainers(spec)) {
      const sc = c.securityContext ?? {};
      assert.equal(sc.readOnlyRootFilesystem, true, `${name}/${c.name} readOnlyRootFilesystem`);
      assert.equal(sc.allowPrivilegeEscalation, false, `${name}/${c.name} allowPrivilegeEscalation`);
      assert.ok(sc.capabilities?.drop?.includes('ALL'), `${name}/${c.name} drops ALL`);
      if (c.name === 'netem') {
        // The one exception: tc needs an effective CAP_NET_ADMIN, which Kubernetes grants only to
        // uid 0 (added capabilities are not ambient for other users). It runs only `tc qdisc`.
        assert.equal(sc.runAsUser, 0);
        continue;
      }
      const nonRoot = sc.runAsNonRoot ?? spec.securityContext?.runAsNonRoot;
      assert.equal(nonRoot, true, `${name}/${c.name} runAsNonRoot`);
    }
  }
});

test('values.schema.json rejects bad values with a message naming the field', () => {
  const cases: [string[], RegExp][] = [
    [['--set', 'peers.hosts=-1'], /peers\/hosts/],
    [['--set', 'linkShaping=tc'], /linkShaping.*linkemu.*netem/],
    [['--set', 'mode=hybrid'], /\/mode/],
    [['--set', 'ports.relay=70000'], /ports\/relay/],
    [['--set', 'image.pullPolicy=Sometimes'], /image\/pullPolicy/],
    [['--set', 'monitoring.grafana.image.tag=latest'], /grafana\/image\/tag/],
    [['--set', 'peerz.hosts=3'], /peerz/],
    [['--set', 'edges[0].id=Edge_1', '--set', 'edges[0].region=x'], /edges\/0\/id/],
  ];
  for (const [args, message] of cases) {
    const r = runHelm(['template', 'lp', chartDir, ...args]);
    assert.notEqual(r.status, 0, `helm accepted ${args.join(' ')}`);
    assert.match(r.stderr, message, `${args.join(' ')}`);
  }
});

test('values that name other nodes than the scenario fail the render, naming the difference', () => {
  const dir = mkdtempSync(join(tmpdir(), 'livepath-chart-'));
  try {
    const values = join(dir, 'values.yaml');
    writeFileSync(
      values,
      'edges:\n  - { id: edge-eu-west, region: eu-west }\n  - { id: edge-a, parent: edge-nowhere }\n',
    );
    const cases: [string[], RegExp][] = [
      [
        ['-f', values],
        /the scenario has edge-us-east<-origin that values lack, values have edge-a<-edge-nowhere that the scenario lacks/,
      ],
      [['--set', 'origin.nodeId=orig'], /origin.nodeId is "orig" but the scenario's origin is "origin"/],
      [['--set', 'peers.hosts=3'], /peers.hosts is 3 but the scenario's 40 viewers fill 2 hosts of 20/],
      [['--set', 'peers.hosts=1'], /peers.hosts is 1 but the scenario's 40 viewers need 2 hosts of 20/],
    ];
    for (const [args, message] of cases) {
      const r = runHelm(['template', 'lp', chartDir, ...args]);
      assert.notEqual(r.status, 0, `helm accepted ${args.join(' ')}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    // Listed as the scenario has them, the edges are accepted, with a region of their own.
    writeFileSync(values, 'edges:\n  - { id: edge-eu-west, region: london }\n  - { id: edge-us-east }\n');
    const edge = find(render(['-f', values]), 'Deployment', 'lp-livepath-edge-eu-west');
    assert.equal(edge.metadata.labels?.['livepath.io/region'], 'london');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the chart deploys the nodes of the scenario it ships: origin, edges and parents, a pod for every viewer', () => {
  const shipped = readdirSync('scenarios')
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => ['--set-file', `scenarioFile=scenarios/${f}`]);
  for (const extra of [[], ...ciFiles.map((f) => ['-f', join(chartDir, 'ci', f)]), ...shipped]) {
    const ms = render(extra);
    const dir = mkdtempSync(join(tmpdir(), 'livepath-chart-'));
    const scenarioPath = join(dir, 'scenario.yaml');
    writeFileSync(scenarioPath, find(ms, 'ConfigMap', 'lp-livepath-scenario').data!['scenario.yaml']!);
    const plan = loadPlan(scenarioPath);
    rmSync(dir, { recursive: true, force: true });
    const what = extra.join(' ') || 'defaults';
    const originArgs = find(ms, 'Deployment', 'lp-livepath-origin').spec!.template!.spec.containers[0]!.args!;
    assert.equal(originArgs[originArgs.indexOf('--node') + 1], plan.originId, what);
    const edges = ms
      .filter((m) => m.kind === 'Deployment' && m.metadata.labels?.['app.kubernetes.io/component'] === 'edge')
      .map((m) => `${m.metadata.labels!['livepath.io/node']}<-${m.metadata.annotations!['livepath.io/parent']}`)
      .sort();
    assert.deepEqual(edges, plan.edges.map((e) => `${e.id}<-${e.parentId}`).sort(), what);
    const sts = find(ms, 'StatefulSet', 'lp-livepath-peers');
    const args = sts.spec!.template!.spec.containers[0]!.args!;
    const perHost = Number(args[args.indexOf('--viewers-per-host') + 1]);
    assert.equal(
      sts.spec!.replicas,
      Math.ceil(plan.viewers.length / perHost),
      `${what}: ${plan.viewers.length} viewers`,
    );
  }
});

test('the Grafana dashboards ConfigMap holds every charts/livepath/dashboards/*.json', () => {
  const files = readdirSync(join(chartDir, 'dashboards'))
    .filter((f) => f.endsWith('.json'))
    .sort();
  const cm = find(render(['--set', 'monitoring.enabled=true']), 'ConfigMap', 'lp-livepath-grafana-dashboards');
  assert.deepEqual(Object.keys(cm.data ?? {}).sort(), files);
  for (const f of files) {
    assert.equal(cm.data![f], readFileSync(join(chartDir, 'dashboards', f), 'utf8'), f);
  }
  // And the provider points Grafana at where that ConfigMap is mounted.
  const prov = find(render(['--set', 'monitoring.enabled=true']), 'ConfigMap', 'lp-livepath-grafana-provisioning');
  const providers = parseYaml(prov.data!['dashboards.yaml']) as { providers: { options: { path: string } }[] };
  const grafana = find(render(['--set', 'monitoring.enabled=true']), 'Deployment', 'lp-livepath-grafana');
  const mounts = (
    grafana.spec!.template!.spec.containers[0] as unknown as { volumeMounts: { name: string; mountPath: string }[] }
  ).volumeMounts;
  assert.equal(mounts.find((v) => v.name === 'dashboards')?.mountPath, providers.providers[0]!.options.path);
});

test('the chart renders with no dashboards yet (empty dashboards ConfigMap)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'livepath-chart-'));
  try {
    const copy = join(dir, 'livepath');
    cpSync(chartDir, copy, {
      recursive: true,
      filter: (src) => !src.endsWith('.json') || src.endsWith('values.schema.json'),
    });
    const r = runHelm(['template', 'lp', copy, '--set', 'monitoring.enabled=true']);
    assert.equal(r.status, 0, r.stderr);
    const cm = parseAllDocuments(r.stdout)
      .map((d) => d.toJS() as Manifest | null)
      .find((m) => m?.metadata.name === 'lp-livepath-grafana-dashboards');
    assert.deepEqual(cm?.data, {});
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('peers StatefulSet: replicas cover the scenario, and each pod passes its ordinal as --viewer-index', () => {
  for (const [perHost, hosts] of [
    [40, 1],
    [7, 6],
    [1, 40],
  ] as const) {
    const sts = find(render(['--set', `peers.viewersPerHost=${perHost}`]), 'StatefulSet', 'lp-livepath-peers');
    assert.equal(sts.spec!.replicas, hosts, `40 viewers, ${perHost} per host`);
    const c = sts.spec!.template!.spec.containers[0]!;
    const args = c.args ?? [];
    assert.equal(args[0], 'peers');
    assert.equal(args[args.indexOf('--viewer-index') + 1], '$(POD_INDEX)');
    assert.equal(args[args.indexOf('--viewers-per-host') + 1], String(perHost));
    assert.equal(args[args.indexOf('--tracker') + 1], 'lp-livepath-tracker:7001');
    const podIndex = c.env?.find((e) => e.name === 'POD_INDEX');
    assert.equal(podIndex?.valueFrom?.fieldRef?.fieldPath, "metadata.labels['apps.kubernetes.io/pod-index']");
  }
  // 0 stays possible (no viewers), as the Kubernetes backend scales the pods itself.
  assert.equal(find(render(['--set', 'peers.hosts=0']), 'StatefulSet', 'lp-livepath-peers').spec!.replicas, 0);
});

test('roles get their ids, the directory of every relay node, and gRPC health probes', () => {
  const ms = render(['-f', join(chartDir, 'ci/many-edges-values.yaml')]);
  const edges = ms.filter(
    (m) => m.kind === 'Deployment' && m.metadata.labels?.['app.kubernetes.io/component'] === 'edge',
  );
  assert.equal(edges.length, 8);
  const directory = edges[0]!.spec!.template!.spec.containers[0]!.args!;
  const dir = directory[directory.indexOf('--directory') + 1]!.split(',');
  assert.equal(dir.length, 9);
  assert.ok(dir.includes('origin=lp-livepath-origin:7000'));
  assert.ok(dir.includes('edge-ap-northeast=lp-livepath-edge-ap-northeast:7000'));
  // The tracker resolves the same roots: without them it exits at start (CrashLoopBackOff).
  const trackerArgs = find(ms, 'Deployment', 'lp-livepath-tracker').spec!.template!.spec.containers[0]!.args!;
  assert.deepEqual(trackerArgs[trackerArgs.indexOf('--directory') + 1]!.split(','), dir);
  const usWest = find(ms, 'Deployment', 'lp-livepath-edge-us-west');
  assert.equal(usWest.metadata.annotations?.['livepath.io/parent'], 'edge-us');
  assert.equal(usWest.metadata.labels?.['livepath.io/region'], 'us-west');
  const args = usWest.spec!.template!.spec.containers[0]!.args!;
  assert.equal(args[args.indexOf('--node') + 1], 'edge-us-west');
  for (const [name, spec] of podSpecs(ms)) {
    if (name.startsWith('Pod/')) continue;
    const c = spec.containers[0]!;
    const port = name.includes('tracker') ? 7001 : 7000;
    assert.equal(c.livenessProbe?.grpc?.port, port, `${name} liveness`);
    assert.equal(c.readinessProbe?.grpc?.port, port, `${name} readiness`);
    // Liveness asks for the process (its gRPC service), readiness for the stream (the overall status).
    const alive = name.includes('tracker') ? LIVENESS_SERVICES.tracker : LIVENESS_SERVICES.relay;
    assert.equal(c.livenessProbe?.grpc?.service, alive, `${name} liveness service`);
    assert.equal(c.readinessProbe?.grpc?.service ?? READINESS_SERVICE, READINESS_SERVICE, `${name} readiness service`);
  }
});

test('scenarioFile (--set-file) wins over the inline scenario and lands in the mounted ConfigMap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'livepath-chart-'));
  try {
    const file = join(dir, 'scenario.yaml');
    const text = readFileSync('scenarios/small.yaml', 'utf8').replace(/^name: small$/m, 'name: from-file');
    writeFileSync(file, text);
    const cm = find(render(['--set-file', `scenarioFile=${file}`]), 'ConfigMap', 'lp-livepath-scenario');
    assert.equal(cm.data!['scenario.yaml']!.trim(), text.trim());
    // Not a scenario the chart can deploy: said so, not rendered half.
    writeFileSync(file, 'name: from-file\n');
    const bad = runHelm(['template', 'lp', chartDir, '--set-file', `scenarioFile=${file}`]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /the scenario has neither geo nor graph/);
    const r = runHelm(['template', 'lp', chartDir, '--set', 'scenario=']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /no scenario/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('monitoring: Prometheus scrapes the four livepath jobs; ServiceMonitor uses the same job names', () => {
  const ms = render(['-f', join(chartDir, 'ci/monitoring-values.yaml')]);
  const prom = parseYaml(find(ms, 'ConfigMap', 'lp-livepath-prometheus').data!['prometheus.yml']!) as {
    scrape_configs: { job_name: string; static_configs?: { labels: Record<string, string> }[] }[];
  };
  assert.deepEqual(prom.scrape_configs.map((s) => s.job_name).sort(), [
    'livepath-edge',
    'livepath-origin',
    'livepath-peer',
    'livepath-tracker',
  ]);
  // The processes' own role/region labels win: no exported_role on every series.
  for (const job of prom.scrape_configs)
    assert.equal((job as { honor_labels?: boolean }).honor_labels, true, job.job_name);
  const edgeJob = prom.scrape_configs.find((s) => s.job_name === 'livepath-edge')!;
  assert.deepEqual(
    edgeJob.static_configs!.map((s) => s.labels.region),
    ['eu-west', 'us-east'],
  );

  const sm = find(ms, 'ServiceMonitor', 'lp-livepath');
  assert.equal(sm.apiVersion, 'monitoring.coreos.com/v1');
  assert.equal(sm.spec!.jobLabel, 'livepath.io/job');
  assert.equal((sm.spec!.endpoints as Array<{ honorLabels?: boolean }>)[0]!.honorLabels, true);
  assert.equal(sm.metadata.labels?.release, 'kube-prometheus-stack');
  const jobs = ms
    .filter((m) => m.kind === 'Service' && m.metadata.labels?.['livepath.io/job'])
    .map((m) => m.metadata.labels!['livepath.io/job']);
  assert.deepEqual([...new Set(jobs)].sort(), [
    'livepath-edge',
    'livepath-origin',
    'livepath-peer',
    'livepath-tracker',
  ]);
});

test('ingest: the origin pulls RTMP from its nginx-rtmp sidecar, whose config comes from a ConfigMap', () => {
  const ms = render(['--set', 'ingest.enabled=true']);
  const origin = find(ms, 'Deployment', 'lp-livepath-origin').spec!.template!.spec;
  assert.deepEqual(
    origin.containers.map((c) => c.name),
    ['origin', 'ingest'],
  );
  const args = origin.containers[0]!.args!;
  assert.equal(args[args.indexOf('--ingest') + 1], 'rtmp');
  assert.equal(args[args.indexOf('--rtmp-url') + 1], 'rtmp://127.0.0.1:1935/live/stream');
  const conf = find(ms, 'ConfigMap', 'lp-livepath-ingest').data!['nginx.conf']!;
  assert.match(conf, /listen 1935;/);
  // the same file `livepath ingest` runs, placeholders filled for the sidecar
  assert.match(conf, /nginx-rtmp ingest for livepath/);
  assert.match(conf, /application live \{/);
  const directives = conf
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n');
  assert.doesNotMatch(directives, /\{\{[A-Z_]+\}\}/, 'no placeholder left outside comments');
  assert.doesNotMatch(conf, /^load_module/m, 'module built into the default image');
  const withModule = find(
    render(['--set', 'ingest.enabled=true', '--set', 'ingest.rtmpModule=/usr/lib/nginx/modules/ngx_rtmp_module.so']),
    'ConfigMap',
    'lp-livepath-ingest',
  ).data!['nginx.conf']!;
  assert.match(withModule, /^load_module \/usr\/lib\/nginx\/modules\/ngx_rtmp_module\.so;/m);
  // Broadcasters reach the ingest while the origin is not ready yet (it is ready once it streams).
  const ingestSvc = find(ms, 'Service', 'lp-livepath-ingest').spec as unknown as {
    ports: { name: string }[];
    publishNotReadyAddresses?: boolean;
  };
  assert.ok(ingestSvc.ports.some((p) => p.name === 'rtmp'));
  assert.equal(ingestSvc.publishNotReadyAddresses, true);
  // Off by default: synthetic broadcaster, no sidecar.
  const plain = find(render(), 'Deployment', 'lp-livepath-origin').spec!.template!.spec;
  assert.deepEqual(
    plain.containers.map((c) => c.name),
    ['origin'],
  );
});

test('helm test pod probes the first peer host', () => {
  const pod = find(render(), 'Pod', 'lp-livepath-test-probe');
  assert.equal(pod.metadata.annotations?.['helm.sh/hook'], 'test');
  const args = (pod.spec as unknown as PodSpec).containers[0]!.args!;
  assert.deepEqual(args, ['probe', '--address', 'lp-livepath-peers-0.lp-livepath-peers.livepath-test.svc:7000']);
});

test('the scenario every values file ships parses and names the same origin, edges and parents', () => {
  for (const extra of [[], ...ciFiles.map((f) => ['-f', join(chartDir, 'ci', f)])]) {
    const ms = render(extra);
    const text = find(ms, 'ConfigMap', 'lp-livepath-scenario').data!['scenario.yaml']!;
    const scenario = parseScenario(text, `chart scenario (${extra.join(' ') || 'defaults'})`);
    assert.ok(scenario.geo, 'chart scenarios are geo scenarios');
    const originArgs = find(ms, 'Deployment', 'lp-livepath-origin').spec!.template!.spec.containers[0]!.args!;
    assert.equal(originArgs[originArgs.indexOf('--node') + 1], scenario.geo.origin.id);
    const chartEdges = ms
      .filter((m) => m.kind === 'Deployment' && m.metadata.labels?.['app.kubernetes.io/component'] === 'edge')
      .map((m) => `${m.metadata.labels!['livepath.io/node']}<-${m.metadata.annotations!['livepath.io/parent']}`)
      .sort();
    const scenarioEdges = scenario.geo.edges.map((e) => `${e.id}<-${e.parent ?? scenario.geo!.origin.id}`).sort();
    assert.deepEqual(chartEdges, scenarioEdges);
  }
});

test("the names the Kubernetes backend drives a release by (backends/kubernetes/chart.ts) are the rendered chart's", () => {
  assert.ok(CHART_DIR.endsWith(join('charts', 'livepath')));
  for (const release of ['lp', 'livepath-ci']) {
    const rendered = renderAs(release);
    const names = releaseNames(release);
    const workloads = rendered.filter((m) => (m.kind === 'Deployment' || m.kind === 'StatefulSet') && m.spec?.template);
    const byRole = new Map<Role, Manifest[]>();
    for (const w of workloads) {
      const labels = (w.spec!.template as unknown as { metadata: { labels: Record<string, string> } }).metadata.labels;
      const role = labels[LABEL.role] as Role | undefined;
      if (role === undefined) continue; // Prometheus, Grafana: no role, not the backend's
      assert.ok(ROLES.includes(role), `${w.metadata.name}: role ${role}`);
      assert.equal(labels[LABEL.instance], release);
      assert.ok(labels[LABEL.component], `${w.metadata.name}: ${LABEL.component}`);
      byRole.set(role, [...(byRole.get(role) ?? []), w]);
      const c = w.spec!.template!.spec.containers.find((x) => x.name === CONTAINER[role]);
      assert.ok(c, `${w.metadata.name}: no container ${CONTAINER[role]}`);
      const args = c.args ?? [];
      assert.equal(args[args.indexOf('--scenario') + 1], SCENARIO_PATH, `${w.metadata.name} reads the scenario`);
      const env = new Map((c.env ?? []).map((e) => [e.name, e.value]));
      assert.equal(env.get('LIVEPATH_RESULTS_DIR'), POD_RESULTS_DIR, `${w.metadata.name} results`);
      assert.equal(env.get(LINK_SHAPING_ENV), 'kernel', `${w.metadata.name}: netem values shape in the kernel`);
      if (role === 'edge') {
        assert.equal(args[args.indexOf(FLAG.node) + 1], labels[LABEL.node]);
        assert.equal(w.metadata.name, names.edge(labels[LABEL.node]!));
        assert.ok(w.metadata.annotations?.[PARENT_ANNOTATION], `${w.metadata.name}: ${PARENT_ANNOTATION}`);
      }
      if (role === 'tracker') assert.ok(args.includes(FLAG.directory));
      if (role === 'peer') {
        assert.equal(w.kind, 'StatefulSet');
        assert.equal(w.metadata.name, names.peers);
        for (const f of [FLAG.mode, FLAG.viewersPerHost, FLAG.viewerIndex, FLAG.tracker])
          assert.ok(args.includes(f), `peers args have ${f}`);
        const index = c.env?.find((e) => e.name === args[args.indexOf(FLAG.viewerIndex) + 1]!.slice(2, -1));
        assert.equal(index?.valueFrom?.fieldRef?.fieldPath, `metadata.labels['${LABEL.podIndex}']`);
      }
    }
    assert.deepEqual([...byRole.keys()].sort(), [...ROLES].sort(), 'a workload per role');
    assert.ok(find(rendered, 'Deployment', names.origin));
    assert.ok(find(rendered, 'Deployment', names.tracker));
    assert.ok(find(rendered, 'ConfigMap', names.scenario).data![SCENARIO_KEY]);
    // The selector the backend lists pods by picks every livepath pod and nothing else.
    const [instance, role] = names.selector.split(',');
    assert.equal(instance, `${LABEL.instance}=${release}`);
    assert.equal(role, LABEL.role);
  }
  // The image's node, which the backend execs in a pod to copy records out.
  assert.match(readFileSync('Dockerfile', 'utf8'), new RegExp(`ENTRYPOINT \\["${POD_NODE}"`));
});

function renderAs(release: string): Manifest[] {
  const r = runHelm(['template', release, chartDir, '--namespace', 't', '-f', join(chartDir, 'ci/netem-values.yaml')]);
  assert.equal(r.status, 0, r.stderr);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

test("the install --backend kubernetes --install runs deploys the run's scenario and --image", () => {
  const dir = mkdtempSync(join(tmpdir(), 'livepath-chart-'));
  try {
    const file = join(dir, 'scenario.yaml');
    const text = readFileSync('scenarios/world.yaml', 'utf8');
    writeFileSync(file, text);
    const args = helmInstallArgs({
      release: 'lp',
      namespace: 'lab',
      scenarioPath: file,
      image: 'registry.example.com:5000/team/livepath:dev',
    });
    assert.equal(args[0], 'install');
    // The same release rendered: `helm template` takes install's flags but --wait/--create-namespace.
    const r = runHelm(['template', ...args.slice(1).filter((a) => a !== '--wait' && a !== '--create-namespace')]);
    assert.equal(r.status, 0, r.stderr);
    const ms = parseAllDocuments(r.stdout)
      .map((d) => d.toJS() as Manifest | null)
      .filter((m): m is Manifest => m !== null);
    assert.equal(find(ms, 'ConfigMap', 'lp-livepath-scenario').data!['scenario.yaml']!.trim(), text.trim());
    const images = new Set(
      podSpecs(ms)
        .filter(([name]) => !name.startsWith('Pod/'))
        .flatMap(([, spec]) =>
          spec.containers.filter((c) => LIVEPATH_CONTAINERS.has(c.name)).map((c) => (c as { image?: string }).image),
        ),
    );
    assert.deepEqual([...images], ['registry.example.com:5000/team/livepath:dev']);
    // world.yaml's three edges, not the chart's default two.
    const edges = ms.filter((m) => m.kind === 'Deployment' && m.metadata.labels?.[LABEL.role] === 'edge');
    assert.equal(edges.length, loadPlan('scenarios/world.yaml').edges.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const LIVEPATH_CONTAINERS = new Set<string>(Object.values(CONTAINER));

test('every Service the docs port-forward to is one the chart renders for that release', () => {
  // The docs install release "livepath" (fullname: livepath, not livepath-livepath).
  const r = runHelm([
    'template',
    'livepath',
    chartDir,
    '--set',
    'monitoring.enabled=true',
    '--set',
    'ingest.enabled=true',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const services = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m?.kind === 'Service')
    .map((m) => m.metadata.name);
  let named = 0;
  for (const doc of ['README.md', 'docs/kubernetes.md', 'charts/livepath/README.md']) {
    for (const m of readFileSync(doc, 'utf8').matchAll(/port-forward svc\/([a-z0-9-]+)/g)) {
      named++;
      assert.ok(
        services.includes(m[1]!),
        `${doc}: svc/${m[1]} is not a Service of release livepath (${services.join(', ')})`,
      );
    }
  }
  assert.ok(named >= 2, 'the docs port-forward to Grafana');
});

test('the image the chart runs by default is the one the docs build', () => {
  const images = new Set(
    podSpecs(render())
      .flatMap(([, spec]) => spec.containers)
      .filter((c) => LIVEPATH_CONTAINERS.has(c.name))
      .map((c) => (c as { image?: string }).image),
  );
  assert.equal(images.size, 1);
  const [image] = images;
  for (const doc of ['README.md', 'docs/kubernetes.md', 'charts/livepath/README.md']) {
    const built = [...readFileSync(doc, 'utf8').matchAll(/docker build -t (\S+) \./g)].map((m) => m[1]);
    assert.ok(built.length > 0, `${doc} says how to build the image`);
    for (const b of built) assert.equal(b, image, `${doc}: docker build -t ${b}, the chart runs ${image}`);
  }
});
