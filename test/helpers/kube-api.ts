// A contract test server for the Kubernetes backend: a node:http server on 127.0.0.1 answering the
// API calls services/lab/backends/kubernetes/ makes, with the paths, verbs, content types and bodies of
// the Kubernetes API reference (apps/v1 StatefulSet, Scale, Deployment; v1 ConfigMap, Pod, Status;
// list-then-watch with resourceVersion; pods/exec over the v4.channel.k8s.io WebSocket protocol).
// It plays the controllers too: deleted pods come back (new uid), scaling adds/removes peer pods.
// Given a `cluster` (a `livepath up` cluster of the chart rendered for the release), every pod is
// real: its containers run as processes with the chart's exact args and env (the StatefulSet's
// args and the scenario ConfigMap as the backend patched them), it is Ready when its readiness
// probe says so, and exec runs in its results directory. Without one (tests of API errors only),
// pods are bare records that turn Ready `readyAfterMs` after creation. Errors are injected per
// call: 401, 403, 404, 409, and watches that disconnect.
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../../services/lab/up/kubelet.js';
import type { Release } from '../../services/lab/up/manifests.js';
import type { Up } from '../../services/lab/up/index.js';

export interface FakeRelease {
  release: string;
  namespace: string;
  /** full name prefix of the objects (chart: <release>-livepath) */
  fullname: string;
  originId: string;
  edgeIds: string[];
  tracker: boolean;
  peersArgs: string[];
  replicas: number;
  scenarioText: string;
}

export interface FailRule {
  method: string;
  /** matched against the path (no query) */
  path: RegExp;
  status: 401 | 403 | 404 | 409 | 500;
  /** how many times (default: always) */
  times?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType?: string;
  body?: unknown;
}

export interface KubeApiOptions {
  token?: string;
  release?: FakeRelease;
  fail?: FailRule[];
  /** the first N pod watches end right after they start (a dropped connection) */
  watchDisconnects?: number;
  /** without a cluster: the pod becomes Ready this long after it is created, whatever it would do */
  readyAfterMs?: number;
  /**
   * without a cluster: no pod becomes Ready before a watch has stayed open (after the dropped
   * ones), so a client sees readiness only by resuming its watch, however slow the machine is
   */
  readyOnceWatched?: boolean;
  /** run the pods for real, in this `livepath up` cluster (see the module comment) */
  cluster?: Up;
  /** called when a pod of the release starts: write its results (dir is its /app/results) */
  onPodStarted?: (pod: FakePod, dir: string) => void;
}

export interface FakePod {
  name: string;
  uid: string;
  role: 'origin' | 'edge' | 'tracker' | 'peer';
  node?: string;
  ordinal?: number;
  ready: boolean;
  deleting: boolean;
  startedAt?: string;
  dir: string;
  /** the real pod, with a cluster */
  real?: Pod;
}

export interface KubeApi {
  url: string;
  token: string;
  requests: RecordedRequest[];
  pods: Map<string, FakePod>;
  statefulSet(): { replicas: number; args: string[] };
  configMapText(): string;
  /** a kubeconfig for this server (context "fake", the given namespace) */
  kubeconfig(dir: string, o?: { token?: string; namespace?: string; server?: string }): string;
  close(): Promise<void>;
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function status(code: number, reason: string, message: string, details?: object) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
    ...(details && { details }),
  };
}

function matchesSelector(labels: Record<string, string>, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return v === undefined ? k! in labels : labels[k!] === v;
  });
}

/** One WebSocket frame, server → client (unmasked). */
function wsFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.from([0x80 | opcode, len])
      : len < 65536
        ? Buffer.from([0x80 | opcode, 126, len >> 8, len & 0xff])
        : Buffer.alloc(10);
  if (len >= 65536) {
    head[0] = 0x80 | opcode;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

export async function startKubeApi(o: KubeApiOptions = {}): Promise<KubeApi> {
  const token = o.token ?? 'fake-token';
  const rel = o.release;
  const root = mkdtempSync(join(tmpdir(), 'livepath-kube-api-'));
  const requests: RecordedRequest[] = [];
  const pods = new Map<string, FakePod>();
  const fail = (o.fail ?? []).map((r) => ({ ...r, left: r.times ?? Infinity }));
  let rv = 100;
  let watchDisconnects = o.watchDisconnects ?? 0;
  // Readiness held back until a watch stays open (readyOnceWatched).
  let watched = !o.readyOnceWatched;
  const heldReady: (() => void)[] = [];
  const watchers = new Set<{ res: ServerResponse; selector: string | null }>();
  const sts = rel && { replicas: rel.replicas, args: [...rel.peersArgs], resourceVersion: String(rv) };
  let cmText = rel?.scenarioText ?? '';
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const labelsOf = (p: FakePod): Record<string, string> => ({
    'app.kubernetes.io/name': 'livepath',
    'app.kubernetes.io/instance': rel!.release,
    'app.kubernetes.io/component': p.role,
    'livepath.io/role': p.role,
    ...(p.node && { 'livepath.io/node': p.node }),
    ...(p.ordinal !== undefined && { 'apps.kubernetes.io/pod-index': String(p.ordinal) }),
  });
  const podJson = (p: FakePod) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      namespace: rel!.namespace,
      uid: p.uid,
      resourceVersion: String(rv),
      labels: labelsOf(p),
      ...(p.deleting && { deletionTimestamp: new Date().toISOString() }),
    },
    spec: { containers: [{ name: p.role === 'peer' ? 'peers' : p.role, image: 'livepath:test' }] },
    status: {
      phase: (p.real ? p.real.phase === 'Running' : p.ready) || p.deleting ? 'Running' : 'Pending',
      conditions: [{ type: 'Ready', status: p.ready && !p.deleting ? 'True' : 'False' }],
      containerStatuses: [
        {
          name: p.role,
          ready: p.ready,
          restartCount: 0,
          image: 'livepath:test',
          imageID: '',
          state: p.startedAt ? { running: { startedAt: p.startedAt } } : { waiting: { reason: 'ContainerCreating' } },
        },
      ],
    },
  });
  const emit = (type: 'ADDED' | 'MODIFIED' | 'DELETED', p: FakePod) => {
    rv++;
    const obj = podJson(p);
    for (const w of watchers)
      if (matchesSelector(obj.metadata.labels, w.selector)) w.res.write(`${JSON.stringify({ type, object: obj })}\n`);
  };

  // The controllers: a pod per Deployment, `replicas` pods of the StatefulSet, each Ready soon.
  const cluster = o.cluster;
  const createPod = (name: string, role: FakePod['role'], extra: Partial<FakePod> = {}) => {
    if (cluster) return createRealPod(name, role, extra);
    const dir = join(root, `${name}-${randomUUID().slice(0, 8)}`);
    mkdirSync(dir, { recursive: true });
    const p: FakePod = { name, uid: randomUUID(), role, ready: false, deleting: false, dir, ...extra };
    pods.set(name, p);
    emit('ADDED', p);
    const becomeReady = () => {
      if (pods.get(name) !== p || p.deleting) return;
      p.startedAt = new Date().toISOString();
      p.ready = true;
      o.onPodStarted?.(p, dir);
      emit('MODIFIED', p);
    };
    later(o.readyAfterMs ?? 30, () => (watched ? becomeReady() : heldReady.push(becomeReady)));
    return p;
  };
  // A real pod of the chart's workload for this role (args and scenario as the backend patched them).
  const createRealPod = (name: string, role: FakePod['role'], extra: Partial<FakePod>) => {
    const w = cluster!.release.workloads.find(
      (x) =>
        x.spec.template.metadata?.labels?.['livepath.io/role'] === role &&
        (role !== 'edge' || x.spec.template.metadata?.labels?.['livepath.io/node'] === extra.node),
    );
    if (!w) throw new Error(`the rendered release has no workload for ${role} ${extra.node ?? ''}`);
    const scenarioCm = cluster!.release.configMaps.get(`${rel!.fullname}-scenario`);
    if (scenarioCm) scenarioCm['scenario.yaml'] = cmText;
    const spec =
      role === 'peer'
        ? {
            ...w.spec.template.spec,
            containers: w.spec.template.spec.containers.map((c) =>
              c.name === 'peers' ? { ...c, args: sts!.args } : c,
            ),
          }
        : w.spec.template.spec;
    const real = cluster!.addPod(
      { ...w, spec: { ...w.spec, template: { ...w.spec.template, spec } } },
      extra.ordinal ?? 0,
    );
    const p: FakePod = {
      name,
      uid: real.uid,
      role,
      ready: false,
      deleting: false,
      dir: join(real.init.dir, 'volumes', 'results'),
      startedAt: new Date().toISOString(),
      real,
      ...extra,
    };
    pods.set(name, p);
    emit('ADDED', p);
    return p;
  };
  cluster?.onChange(() => {
    for (const p of pods.values()) {
      if (!p.real || p.deleting || p.real.ready === p.ready) continue;
      p.ready = p.real.ready;
      emit('MODIFIED', p);
    }
  });

  const reconcile = () => {
    if (!rel || !sts) return;
    const want: Array<[string, FakePod['role'], Partial<FakePod>]> = [[`${rel.fullname}-origin`, 'origin', {}]];
    for (const e of rel.edgeIds) want.push([`${rel.fullname}-${e}`, 'edge', { node: e }]);
    if (rel.tracker) want.push([`${rel.fullname}-tracker`, 'tracker', {}]);
    for (let i = 0; i < sts.replicas; i++) want.push([`${rel.fullname}-peers-${i}`, 'peer', { ordinal: i }]);
    for (const [name, role, extra] of want) if (!pods.has(name)) createPod(name, role, extra);
    for (const p of pods.values()) if (p.role === 'peer' && p.ordinal! >= sts.replicas && !p.deleting) deletePod(p);
  };
  const deletePod = (p: FakePod, graceS = 30) => {
    p.deleting = true;
    emit('MODIFIED', p);
    const gone = () => {
      pods.delete(p.name);
      emit('DELETED', p);
      if (!p.real) rmSync(p.dir, { recursive: true, force: true });
      reconcile();
    };
    if (p.real) void cluster!.removePod(p.real, graceS).then(gone);
    else later(20, gone);
  };
  reconcile();

  const send = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let s = '';
      req.on('data', (d) => (s += d));
      req.on('end', () => resolve(s));
    });
  const injected = (method: string, path: string) => {
    const rule = fail.find((r) => r.method === method && r.path.test(path) && r.left > 0);
    if (rule) rule.left--;
    return rule?.status;
  };
  const authorized = (req: IncomingMessage) => req.headers.authorization === `Bearer ${token}`;
  const refusal = (code: number, method: string, path: string) =>
    code === 401
      ? status(401, 'Unauthorized', 'Unauthorized')
      : code === 403
        ? status(403, 'Forbidden', `forbidden: User "fake" cannot ${method.toLowerCase()} ${path}`)
        : code === 404
          ? status(404, 'NotFound', `${path} not found`)
          : code === 409
            ? status(
                409,
                'Conflict',
                'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again',
              )
            : status(code, 'InternalError', 'injected');

  const ns = rel?.namespace ?? 'default';
  const apps = `/apis/apps/v1/namespaces/${ns}`;
  const core = `/api/v1/namespaces/${ns}`;

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://x');
    const path = url.pathname;
    const text = await readBody(req);
    const rec: RecordedRequest = {
      method: req.method!,
      path,
      query: url.searchParams,
      contentType: req.headers['content-type'],
    };
    if (text) rec.body = JSON.parse(text);
    requests.push(rec);
    if (!authorized(req)) return send(res, 401, refusal(401, req.method!, path));
    const code = injected(req.method!, path);
    if (code) return send(res, code, refusal(code, req.method!, path));
    if (!rel || !sts) return send(res, 404, refusal(404, req.method!, path));
    // biome-ignore lint/suspicious/noExplicitAny: a fake API server reads whatever JSON the client sent
    const body = rec.body as Record<string, any> | undefined;

    if (path === `${apps}/statefulsets/${rel.fullname}-peers` && req.method === 'GET') {
      return send(res, 200, {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: {
          name: `${rel.fullname}-peers`,
          namespace: ns,
          resourceVersion: sts.resourceVersion,
          labels: { 'app.kubernetes.io/instance': rel.release },
        },
        spec: {
          replicas: sts.replicas,
          serviceName: `${rel.fullname}-peers`,
          selector: { matchLabels: {} },
          template: { spec: { containers: [{ name: 'peers', image: 'livepath:test', args: sts.args }] } },
        },
      });
    }
    if (path === `${apps}/statefulsets/${rel.fullname}-peers` && req.method === 'PATCH') {
      if (rec.contentType !== 'application/strategic-merge-patch+json')
        return send(res, 415, status(415, 'UnsupportedMediaType', `unexpected ${rec.contentType}`));
      if (body?.metadata?.resourceVersion && body.metadata.resourceVersion !== sts.resourceVersion)
        return send(res, 409, refusal(409, 'PATCH', path));
      const c = body?.spec?.template?.spec?.containers?.find((x: { name: string }) => x.name === 'peers');
      if (c?.args) sts.args = c.args;
      sts.resourceVersion = String(++rv);
      return send(res, 200, {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: `${rel.fullname}-peers`, resourceVersion: sts.resourceVersion },
      });
    }
    if (path === `${apps}/statefulsets/${rel.fullname}-peers/scale` && req.method === 'PATCH') {
      if (rec.contentType !== 'application/merge-patch+json')
        return send(res, 415, status(415, 'UnsupportedMediaType', `unexpected ${rec.contentType}`));
      sts.replicas = body!.spec.replicas;
      sts.resourceVersion = String(++rv);
      reconcile();
      return send(res, 200, {
        apiVersion: 'autoscaling/v1',
        kind: 'Scale',
        metadata: { name: `${rel.fullname}-peers`, namespace: ns },
        spec: { replicas: sts.replicas },
        status: { replicas: sts.replicas },
      });
    }
    if (path === `${apps}/deployments` && req.method === 'GET') {
      const items = [
        { role: 'origin', name: `${rel.fullname}-origin`, args: ['origin', '--node', rel.originId] },
        ...rel.edgeIds.map((e) => ({
          role: 'edge',
          node: e,
          name: `${rel.fullname}-${e}`,
          args: ['edge', '--node', e],
        })),
        ...(rel.tracker ? [{ role: 'tracker', name: `${rel.fullname}-tracker`, args: ['tracker'] }] : []),
      ]
        .map((d) => ({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: {
            name: d.name,
            namespace: ns,
            labels: {
              'app.kubernetes.io/instance': rel.release,
              'livepath.io/role': d.role,
              ...('node' in d && { 'livepath.io/node': d.node }),
            },
          },
          spec: {
            selector: { matchLabels: {} },
            template: { spec: { containers: [{ name: d.role, image: 'livepath:test', args: d.args }] } },
          },
        }))
        .filter((d) =>
          matchesSelector(d.metadata.labels as Record<string, string>, url.searchParams.get('labelSelector')),
        );
      return send(res, 200, {
        apiVersion: 'apps/v1',
        kind: 'DeploymentList',
        metadata: { resourceVersion: String(rv) },
        items,
      });
    }
    if (path === `${core}/configmaps/${rel.fullname}-scenario`) {
      if (req.method === 'PATCH') {
        if (rec.contentType !== 'application/merge-patch+json')
          return send(res, 415, status(415, 'UnsupportedMediaType', `unexpected ${rec.contentType}`));
        cmText = body!.data['scenario.yaml'];
      }
      return send(res, 200, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `${rel.fullname}-scenario`, namespace: ns },
        data: { 'scenario.yaml': cmText },
      });
    }
    if (path === `${core}/pods` && req.method === 'GET') {
      const selector = url.searchParams.get('labelSelector');
      if (url.searchParams.get('watch') === 'true') {
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        if (watchDisconnects > 0) {
          watchDisconnects--;
          res.flushHeaders();
          return later(10, () => res.end());
        }
        const w = { res, selector };
        watchers.add(w);
        res.flushHeaders();
        res.on('close', () => watchers.delete(w));
        if (!watched) {
          watched = true;
          later(10, () => {
            for (const ready of heldReady.splice(0)) ready();
          });
        }
        return;
      }
      const items = [...pods.values()].map(podJson).filter((p) => matchesSelector(p.metadata.labels, selector));
      return send(res, 200, { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: String(rv) }, items });
    }
    const podDelete = new RegExp(`^${core}/pods/([^/]+)$`).exec(path);
    if (podDelete && req.method === 'DELETE') {
      const p = pods.get(podDelete[1]!);
      if (!p)
        return send(
          res,
          404,
          status(404, 'NotFound', `pods "${podDelete[1]}" not found`, { name: podDelete[1], kind: 'pods' }),
        );
      const uid = body?.preconditions?.uid;
      if (uid && uid !== p.uid)
        return send(
          res,
          409,
          status(409, 'Conflict', `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${p.uid}`),
        );
      const grace = url.searchParams.get('gracePeriodSeconds') ?? body?.gracePeriodSeconds;
      if (!p.deleting) deletePod(p, grace === undefined || grace === null ? 30 : Number(grace));
      return send(res, 200, podJson(p));
    }
    return send(
      res,
      404,
      status(404, 'NotFound', `the server could not find the requested resource (${req.method} ${path})`),
    );
  });

  // pods/exec: a WebSocket speaking v4.channel.k8s.io. The command runs for real with this
  // machine's node, its /app/results argument mapped to the pod's directory.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    const url = new URL(req.url!, 'http://x');
    const m = new RegExp(`^/api/v1/namespaces/${ns}/pods/([^/]+)/exec$`).exec(url.pathname);
    requests.push({ method: 'GET', path: url.pathname, query: url.searchParams });
    const refuse = (code: number, text: string) => socket.end(`HTTP/1.1 ${code} ${text}\r\ncontent-length: 0\r\n\r\n`);
    if (!authorized(req)) return refuse(401, 'Unauthorized');
    const code = injected('EXEC', url.pathname);
    if (code) return refuse(code, code === 403 ? 'Forbidden' : 'Error');
    const pod = m && pods.get(m[1]!);
    if (!pod) return refuse(404, 'Not Found');
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((s) => s.trim());
    const proto = protocols.includes('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : protocols[0]!;
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}${WS_GUID}`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${proto}\r\n\r\n`,
    );
    socket.on('error', () => undefined);
    socket.on('data', () => undefined); // the client's close frame
    const [cmd, ...args] = url.searchParams.getAll('command');
    if (cmd !== '/nodejs/bin/node') {
      socket.write(
        wsFrame(
          2,
          Buffer.concat([
            Buffer.from([3]),
            Buffer.from(JSON.stringify(status(500, 'InternalError', `exec: "${cmd}": not found in the image`))),
          ]),
        ),
      );
      return socket.end(wsFrame(8, Buffer.alloc(0)));
    }
    const child = spawn(
      process.execPath,
      args.map((a) => a.replace(/^\/app\/results/, pod.dir)),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.on('data', (d: Buffer) => socket.write(wsFrame(2, Buffer.concat([Buffer.from([1]), d]))));
    child.stderr.on('data', (d: Buffer) => socket.write(wsFrame(2, Buffer.concat([Buffer.from([2]), d]))));
    child.on('close', (exit) => {
      const st =
        exit === 0
          ? { metadata: {}, status: 'Success' }
          : {
              metadata: {},
              status: 'Failure',
              message: `command terminated with non-zero exit code: exit status ${exit}`,
              reason: 'NonZeroExitCode',
              details: { causes: [{ reason: 'ExitCode', message: String(exit) }] },
            };
      socket.write(wsFrame(2, Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify(st))])));
      socket.end(wsFrame(8, Buffer.alloc(0)));
    });
  });

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    token,
    requests,
    pods,
    statefulSet: () => ({ replicas: sts?.replicas ?? 0, args: sts?.args ?? [] }),
    configMapText: () => cmText,
    kubeconfig(dir, k = {}) {
      const path = join(dir, `kubeconfig-${randomUUID().slice(0, 6)}.yaml`);
      writeFileSync(
        path,
        [
          'apiVersion: v1',
          'kind: Config',
          'current-context: fake',
          'clusters:',
          // client-node refuses plain http unless TLS verification is off (there is no TLS here).
          `- name: fake\n  cluster:\n    server: ${k.server ?? url}\n    insecure-skip-tls-verify: true`,
          'users:',
          `- name: tester\n  user:\n    token: ${k.token ?? token}`,
          'contexts:',
          `- name: fake\n  context:\n    cluster: fake\n    user: tester\n    namespace: ${k.namespace ?? ns}`,
          '',
        ].join('\n'),
      );
      return path;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const p of pods.values()) if (p.real) await cluster!.removePod(p.real, 5);
      for (const w of watchers) w.res.end();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The FakeRelease of a rendered chart (what its controllers and API objects hold). */
export function releaseOf(r: Release, fullname: string, scenarioText: string): FakeRelease {
  const role = (w: Release['workloads'][number]) => w.spec.template.metadata?.labels?.['livepath.io/role'];
  const origin = r.workloads.find((w) => role(w) === 'origin')!;
  const originArgs = origin.spec.template.spec.containers[0]!.args ?? [];
  const peers = r.workloads.find((w) => role(w) === 'peer')!;
  return {
    release: r.release,
    namespace: r.namespace,
    fullname,
    originId: originArgs[originArgs.indexOf('--node') + 1]!,
    edgeIds: r.workloads
      .filter((w) => role(w) === 'edge')
      .map((w) => w.spec.template.metadata!.labels!['livepath.io/node']!),
    tracker: r.workloads.some((w) => role(w) === 'tracker'),
    peersArgs: peers.spec.template.spec.containers.find((c) => c.name === 'peers')!.args ?? [],
    replicas: peers.spec.replicas ?? 1,
    scenarioText,
  };
}
