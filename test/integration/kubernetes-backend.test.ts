// The Kubernetes backend against the contract server of test/helpers/kube-api.ts, through a
// generated kubeconfig. A run on real pods (the chart rendered for the release, every pod's
// containers run by `livepath up`'s kubelet: Ready when its readiness probe says so, the run's
// clock read from the tracker, a churned pod's replacement joining only the viewers present);
// the API sequence (scale, restart through a dropped watch, churn, collection, restore) on bare
// pod records; and each failure's one-line message.
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
import { CHUNK_COLUMNS, chunkCount } from '../../services/results/chunks.js';
import { EVENT_COLUMNS } from '../../services/results/events.js';
import { releaseOf, startKubeApi, type FakePod, type FakeRelease, type KubeApiOptions } from '../helpers/kube-api.js';
import { Up } from '../../services/lab/up/index.js';
import { renderRelease } from '../../services/lab/up/manifests.js';
import { STREAM_CLOCK_FILE } from '../../services/results/stream-clock.js';
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

/** What a pod writes: the tracker its stream clock, a peers pod a row per chunk for each viewer of its slice. */
function writePeerResults(pod: { role: string; ordinal?: number }, podDir: string): void {
  if (pod.role === 'tracker')
    writeFileSync(
      join(podDir, STREAM_CLOCK_FILE),
      JSON.stringify({
        startUs: Date.now() * 1000,
        chunkDurationUs: 250_000,
        source: 'origin',
        seq: 0,
        learntAtUs: Date.now() * 1000,
      }),
    );
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

test("a run on the chart's real pods: ready by their probes, one clock from the tracker, churn without replayed joins", {
  timeout: 180_000,
}, async () => {
  // The release was installed with another scenario (same nodes, another length) and in p2p mode.
  const installed = join(dir, 'kube-installed.yaml');
  writeFileSync(installed, smallScenario('kube-installed', { durationS: 60 }));
  const rendered = await renderRelease({
    release: 'lp',
    namespace: 'lab',
    setFile: [`scenarioFile=${installed}`],
    // Probed every second: readiness runs down origin → edge → tracker → peers in a few seconds.
    set: ['peers.viewersPerHost=2', 'mode=p2p', 'probes.periodSeconds=1'],
  });
  // Long enough for the pods to be seen ready before the kill at 16 s.
  const durationS = 24;
  const killAtS = 16;
  const run = smallScenario('kube-real', { durationS, churn: [{ atS: killAtS, kind: 'kill', viewers: ['v3'] }] });
  const runPath = join(dir, 'kube-real.yaml');
  writeFileSync(runPath, run);
  const runPlan = loadPlan(runPath);
  const upLog: string[] = [];
  const cluster = await Up.cluster(
    {
      release: 'lp',
      namespace: 'lab',
      stateDir: tempDir('kube-up'),
      restartBackoffMs: 1_000,
      log: (l) => upLog.push(l),
    },
    rendered,
  );
  try {
    const fake = releaseOf(rendered, 'lp-livepath', readFileSync(installed, 'utf8'));
    await withApi({ release: fake, cluster, watchDisconnects: 1 }, async (api) => {
      const lines: string[] = [];
      const out = join(tempDir('kube-run'), 'run');
      const result = await runExperiment({
        plan: runPlan,
        scenarioPath: runPath,
        modes: ['cdn'],
        out,
        viewersPerHost: 2,
        backend: kubernetesBackend({
          release: 'lp',
          readyTimeoutMs: 90_000,
          log: (l) => lines.push(`${new Date().toISOString().slice(14, 23)} ${l}`),
        }),
      });
      const s = result.summaries[0]!;
      assert.equal(s.backend, 'kubernetes');
      assert.equal(s.viewers, 4);
      // The run's clock is the tracker's (learnt from the origin), not a pod's start.
      assert.ok(
        lines.some((l) => /the run's clock: chunk 0 began .* \(tracker lp-livepath-tracker\)/.test(l)),
        lines.join('\n'),
      );
      // The viewers of the pod that stayed lost nothing; every record is of the run's chunks.
      const chunks = chunkCount(runPlan);
      const rows = readFileSync(join(out, 'chunks.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(','));
      assert.deepEqual(
        rows.filter((r) => Number(r[1]) >= chunks).slice(0, 3),
        [],
        'records cover the run, not the stream after it',
      );
      for (const v of ['v1', 'v2']) {
        const seqs = new Set(rows.filter((r) => r[0] === v).map((r) => Number(r[1])));
        const from = Math.min(...seqs);
        const lost = Array.from({ length: chunks - from }, (_, i) => from + i).filter((k) => !seqs.has(k));
        assert.deepEqual(lost, [], `${v} lost chunks`);
      }
      // Host 1 (v3, v4) was deleted at 16 s; its replacement joined v4 only: v3 left the run at 16 s.
      const raw = readdirSync(join(out, 'raw'));
      assert.ok(
        raw.includes('lp-livepath-peers-1.events.csv') && raw.includes('lp-livepath-peers-1-r1.events.csv'),
        `${raw.join()}\n${lines.join('\n')}\n${upLog.join('\n')}`,
      );
      // Joins within the run (the schedule repeats after durationS: v3 comes back then).
      const clock = JSON.parse(readFileSync(join(out, 'raw', STREAM_CLOCK_FILE), 'utf8')) as { startUs: number };
      const joins = (f: string) =>
        readFileSync(join(out, 'raw', f), 'utf8')
          .split('\n')
          .map((l) => l.split(','))
          .filter((e) => e[1] === 'join' && Number(e[0]) < clock.startUs + durationS * 1e6)
          .map((e) => e[2]);
      assert.deepEqual(joins('lp-livepath-peers-1.events.csv').sort(), ['v3', 'v4']);
      assert.deepEqual(joins('lp-livepath-peers-1-r1.events.csv'), ['v4']);
      assert.ok(
        rows.some((r) => r[0] === 'v4' && Number(r[1]) * runPlan.stream.chunkDurationUs > killAtS * 1e6),
        'v4 streams again after the replacement',
      );
      // What the run changed is put back: the installed scenario and p2p mode.
      assert.equal(api.configMapText(), readFileSync(installed, 'utf8'));
      assert.deepEqual(api.statefulSet().args, fake.peersArgs);
    });
  } finally {
    await cluster.stop();
  }
});

test('API sequence on bare pod records: scale, fresh pods through a dropped watch, churn, collect, restore', async () => {
  // No pod is Ready before a watch stays open: the backend sees them only by resuming its watch.
  const apiOptions = {
    release: release(),
    watchDisconnects: 2,
    readyOnceWatched: true,
    onPodStarted: writePeerResults,
  };
  await withApi(apiOptions, async (api) => {
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
    // Watches: two dropped, each resumed from a fresh list, the third saw the pods become Ready.
    const podGets = api.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/namespaces/lab/pods');
    const watchAt = podGets.flatMap((r, i) => (r.query.get('watch') === 'true' ? [i] : []));
    assert.equal(watchAt.length, 3, 'two dropped watches and the one that saw readiness');
    for (const i of watchAt) assert.notEqual(podGets[i - 1]?.query.get('watch'), 'true', 'a list before each watch');
    assert.ok(
      podGets.filter((r) => r.query.get('watch') !== 'true').length >= 5,
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

test("pods ready only after the run's durationS: said so, not an empty run", async () => {
  // The stream began 5 s before the pods were ready; the scenario lasts 2 s.
  const lateClock = (pod: FakePod, podDir: string) => {
    writePeerResults(pod, podDir);
    if (pod.role === 'tracker') {
      const c = JSON.parse(readFileSync(join(podDir, STREAM_CLOCK_FILE), 'utf8')) as { startUs: number };
      writeFileSync(join(podDir, STREAM_CLOCK_FILE), JSON.stringify({ ...c, startUs: c.startUs - 5e6 }));
    }
  };
  await withApi({ release: release({ replicas: 2 }), onPodStarted: lateClock }, async (api) => {
    assert.match(
      await failure(),
      /^the pods were ready \d+\.\d s into the stream, after the run's 2 s: give the scenario a longer durationS/,
    );
    assert.deepEqual(api.statefulSet().args, release().peersArgs, 'the release is put back');
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
