// The Kubernetes backend against the contract server of test/helpers/kube-api.ts, through a
// generated kubeconfig: the happy path (scale, restart, readiness through a dropped watch, churn,
// collection, restore) feeds the summary; each failure gives its one-line message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { runExperiment } from '../../services/lab/experiment.js';
import {
  churnPodKills,
  kubernetesBackend,
  runKubernetes,
  type KubernetesBackendOptions,
} from '../../services/lab/backends/kubernetes/index.js';
import type { BackendRunOptions } from '../../services/lab/backends/index.js';
import { loadPlan } from '../../services/runtime/plan.js';
import { CHUNK_COLUMNS } from '../../services/results/chunks.js';
import { EVENT_COLUMNS } from '../../services/results/events.js';
import { startKubeApi, type FakeRelease, type KubeApiOptions } from '../helpers/kube-api.js';
import { assertNoChunkBelowBound, runCli, smallScenario, tempDir } from '../helpers/cli.js';

const SCENARIO = smallScenario('kube-small', { durationS: 2, churn: [{ atS: 1, kind: 'kill', viewers: ['v3'] }] });

const dir = tempDir('kube');
const scenarioPath = join(dir, 'kube-small.yaml');
writeFileSync(scenarioPath, SCENARIO);
const plan = loadPlan(scenarioPath);

function release(o: Partial<FakeRelease> = {}): FakeRelease {
  return {
    release: 'lp',
    namespace: 'lab',
    fullname: 'lp-livepath',
    originId: 'origin',
    edgeIds: ['edge1'],
    tracker: true,
    peersArgs: [
      'peers',
      '--scenario',
      '/etc/livepath/scenario.yaml',
      '--viewer-index',
      '$(POD_INDEX)',
      '--viewers-per-host',
      '2',
      '--mode',
      'p2p',
    ],
    replicas: 5,
    scenarioText: 'name: something-else\n',
    ...o,
  };
}

/** What a peers pod writes: one row per chunk for each viewer of its slice (like services/peer). */
function writePeerResults(pod: { role: string; ordinal?: number }, podDir: string): void {
  if (pod.role !== 'peer') return;
  const mine = plan.viewers.slice(pod.ordinal! * 2, pod.ordinal! * 2 + 2);
  const rows = mine.flatMap((v) =>
    [0, 1, 2, 3, 4, 5, 6, 7].map(
      (seq) =>
        `${v.id},${seq},${seq * 250_000},${seq * 250_000 + 30_000},30.000,${Math.min(30, v.boundMs).toFixed(3)},cdn,2,edge1`,
    ),
  );
  writeFileSync(join(podDir, 'peers.chunks.csv'), `${[CHUNK_COLUMNS.join(','), ...rows].join('\n')}\n`);
  writeFileSync(
    join(podDir, 'peers.events.csv'),
    `${[EVENT_COLUMNS.join(','), ...mine.map((v) => `1,join,${v.id},edge1`)].join('\n')}\n`,
  );
}

async function withApi<T>(
  o: KubeApiOptions,
  fn: (api: Awaited<ReturnType<typeof startKubeApi>>, kubeconfig: string) => Promise<T>,
  kc: { token?: string } = {},
): Promise<T> {
  const api = await startKubeApi(o);
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = api.kubeconfig(dir, kc);
  try {
    return await fn(api, process.env.KUBECONFIG);
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
    await api.close();
  }
}

function backendOptions(rawDir: string): BackendRunOptions {
  return { plan, scenarioPath, mode: 'cdn', rawDir, logDir: join(rawDir, '..', 'logs') };
}

const quick: KubernetesBackendOptions = { release: 'lp', drainMs: 100, readyTimeoutMs: 10_000, log: () => undefined };

/** The one-line message of what `runKubernetes` rejects with. */
async function failure(o: KubernetesBackendOptions = quick): Promise<string> {
  const raw = tempDir('kube-raw');
  const e = await runKubernetes(backendOptions(raw), o).then(
    () => assert.fail('the run should have failed'),
    (err: Error) => err,
  );
  assert.doesNotMatch(e.message, /\n/, 'one line');
  return e.message;
}

test('a kill event deletes the peer pods hosting most of its viewers', () => {
  assert.deepEqual(churnPodKills(plan, 2), [{ atS: 1, hosts: [1] }]); // v3 is viewer 2: host 1
  assert.deepEqual(churnPodKills(plan, 4), [{ atS: 1, hosts: [0] }]);
});

test('happy path: scale, fresh pods through a dropped watch, churn, collect, restore; the summary reads it', async () => {
  await withApi({ release: release(), watchDisconnects: 2, onPodStarted: writePeerResults }, async (api) => {
    const lines: string[] = [];
    const out = join(tempDir('kube-run'), 'run');
    const result = await runExperiment({
      plan,
      scenarioPath,
      modes: ['cdn'],
      out,
      backend: kubernetesBackend({ ...quick, log: (l) => lines.push(l) }),
    });
    const raw = readdirSync(join(out, 'raw')).sort();
    // Host 1 was deleted at 1 s, its records copied first; its replacement, when up by the end,
    // is collected as -r1 (on a loaded machine it may still be starting: then it has nothing yet).
    const chunkFiles = raw.filter((f) => f.endsWith('.chunks.csv'));
    assert.ok(
      chunkFiles.includes('lp-livepath-peers-0.chunks.csv') && chunkFiles.includes('lp-livepath-peers-1.chunks.csv'),
      chunkFiles.join(),
    );
    assert.ok(
      chunkFiles.every((f) => /^lp-livepath-peers-[01](-r1)?\.chunks\.csv$/.test(f)),
      chunkFiles.join(),
    );
    assert.ok(raw.includes('lp-livepath-peers-0.events.csv'));
    const s = result.summaries[0]!;
    assert.equal(s.backend, 'kubernetes');
    assert.equal(s.chunks, 4 * 8, 'every viewer × chunk once (duplicates of the replaced host merged)');
    assert.ok(existsSync(join(out, 'summary.json')) && existsSync(join(out, 'chunks.csv')));
    assertNoChunkBelowBound(out);
    assert.match(readFileSync(join(out, 'events.csv'), 'utf8'), /join,v1,edge1/);

    const calls = api.requests.map((r) => `${r.method} ${r.path}`);
    // Scaled to 2 hosts for 4 viewers (--viewers-per-host 2), then back to the release's 5.
    const scales = api.requests.filter((r) => r.path.endsWith('/statefulsets/lp-livepath-peers/scale'));
    assert.deepEqual(
      scales.map((r) => (r.body as { spec: { replicas: number } }).spec.replicas),
      [2, 5],
    );
    assert.equal(scales[0]!.contentType, 'application/merge-patch+json');
    // --mode patched to cdn for the run and back to p2p; scenario ConfigMap set and restored.
    const argPatches = api.requests.filter(
      (r) => r.method === 'PATCH' && r.path.endsWith('/statefulsets/lp-livepath-peers'),
    );
    assert.equal(argPatches.length, 2);
    assert.deepEqual(api.statefulSet(), { replicas: 5, args: release().peersArgs });
    assert.equal(api.configMapText(), 'name: something-else\n');
    const cmPatch = api.requests.find(
      (r) => r.method === 'PATCH' && r.path.endsWith('/configmaps/lp-livepath-scenario'),
    );
    assert.equal((cmPatch!.body as { data: Record<string, string> }).data['scenario.yaml'], SCENARIO);
    // Watches: two dropped, resumed by listing again.
    const podGets = api.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/namespaces/lab/pods');
    assert.ok(podGets.filter((r) => r.query.get('watch') === 'true').length >= 2);
    assert.ok(
      podGets.filter((r) => r.query.get('watch') !== 'true').length >= 4,
      'old pods, then a list per (re)watch, then collection',
    );
    // Pod deletes carry the uid precondition; exec runs the image's node.
    const del = api.requests.find((r) => r.method === 'DELETE');
    assert.ok((del!.body as { preconditions: { uid: string } }).preconditions.uid);
    assert.ok(calls.some((c) => c.endsWith('/pods/lp-livepath-peers-0/exec')));
    assert.ok(
      lines.some((l) => /pods ready/.test(l)),
      'readiness progress',
    );
    assert.ok(lines.some((l) => /churn at 1 s: deleting lp-livepath-peers-1/.test(l)));
  });
});

test('409 on the peers patch: re-read and patched again', async () => {
  await withApi(
    {
      release: release({ replicas: 2 }),
      fail: [{ method: 'PATCH', path: /statefulsets\/lp-livepath-peers$/, status: 409, times: 1 }],
      onPodStarted: writePeerResults,
    },
    async (api) => {
      await runKubernetes(backendOptions(tempDir('kube-raw')), quick);
      const gets = api.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/statefulsets/lp-livepath-peers'));
      assert.ok(gets.length >= 3, 'read, conflict, read again');
      assert.deepEqual(api.statefulSet().args, release().peersArgs);
    },
  );
});

test('no kubeconfig', async () => {
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = join(dir, 'missing.yaml');
  try {
    assert.match(await failure(), /^no kubeconfig: KUBECONFIG=.*missing\.yaml names no existing file — set KUBECONFIG/);
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
  }
});

test('unreachable API server', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const api = await startKubeApi();
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = api.kubeconfig(dir, { server: `http://127.0.0.1:${port}` });
  await api.close();
  try {
    assert.match(
      await failure(),
      new RegExp(
        `^cannot reach the Kubernetes API server http://127\\.0\\.0\\.1:${port} \\(context "fake"\\): ECONNREFUSED`,
      ),
    );
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
  }
});

test('401: credentials rejected', async () => {
  await withApi(
    { release: release() },
    async () => {
      assert.match(await failure(), /rejected the credentials of context "fake" \(401 Unauthorized\)/);
    },
    { token: 'expired' },
  );
});

test('403: the missing RBAC permission is named', async () => {
  await withApi({ release: release(), fail: [{ method: 'PATCH', path: /\/scale$/, status: 403 }] }, async () => {
    assert.match(
      await failure(),
      /^missing RBAC permission: user "tester" cannot patch statefulsets\/scale in namespace "lab" \(403 Forbidden\)/,
    );
  });
  await withApi({ release: release(), fail: [{ method: 'GET', path: /\/pods$/, status: 403 }] }, async () => {
    assert.match(await failure(), /cannot list pods in namespace "lab"/);
  });
  await withApi(
    {
      release: release({ replicas: 2 }),
      fail: [{ method: 'EXEC', path: /\/exec$/, status: 403 }],
      onPodStarted: writePeerResults,
    },
    async () => {
      assert.match(await failure(), /cannot create pods\/exec in namespace "lab"/);
    },
  );
});

test('404: release not found, with the helm install command', async () => {
  await withApi({ release: release() }, async () => {
    const m = await failure({ ...quick, release: 'other' });
    assert.match(
      m,
      /^release "other" not found in namespace "lab" \(no StatefulSet other-livepath-peers\): install it with `helm install other .*charts\/livepath --namespace lab --create-namespace --set-file scenarioFile=.*kube-small\.yaml --wait` \(or pass --install\)$/,
    );
  });
});

test('pods that never become ready: a timeout naming what they wait for', async () => {
  await withApi({ release: release({ replicas: 2 }), readyAfterMs: 60_000 }, async () => {
    assert.match(
      await failure({ ...quick, readyTimeoutMs: 500 }),
      /^pods not ready after 1 s: 0\/5 pods ready \(peers 0\/2\) · waiting: .*ContainerCreating/,
    );
  });
});

test("the release must deploy the scenario's nodes", async () => {
  await withApi({ release: release({ edgeIds: ['edge-eu'] }) }, async () => {
    assert.match(await failure(), /does not deploy the nodes scenario "kube-small" needs \(edges edge1\)/);
  });
});

test('CLI: --backend kubernetes without a kubeconfig says so in one line', async () => {
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = join(dir, 'missing.yaml'); // the child inherits it
  const r = await runCli(
    [
      'run',
      scenarioPath,
      '--backend',
      'kubernetes',
      '--mode',
      'cdn',
      '--quiet',
      '--out',
      join(tempDir('kube-cli'), 'run'),
    ],
    {
      timeoutMs: 60_000,
    },
  ).finally(() => {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
  });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /livepath: no kubeconfig: /);
});
