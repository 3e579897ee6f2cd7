// `livepath up` as a user runs it, with the chart's default values and with every file in
// charts/livepath/ci/: the chart's own rendered workloads, started in a shuffled order, must
// stream to every viewer (through the peer path too where the values ask for p2p), keep streaming
// to every viewer of the other pods while one peers pod is killed and restarted, pass the chart's
// `helm test` (`livepath up test`), and give every dashboard query series. This is how CI proves
// `helm install` streams: no container can run here and there is no cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { startPrometheus, type PrometheusRun } from '../../services/lab/prometheus.js';
import type { UpState } from '../../services/lab/up/index.js';
import { CLI, ROOT, runCli, tempDir } from '../helpers/cli.js';

const CHART = join(ROOT, 'charts', 'livepath');
const ciFiles = readdirSync(join(CHART, 'ci'))
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const missing = ['prometheus', 'nginx', 'ffmpeg'].filter((b) => spawnSync(b, ['-v'], { stdio: 'ignore' }).error);
const skip = missing.length > 0 && `needs ${missing.join(', ')} (scripts/test.sh installs them as root)`;

/** The run cases: every ci/ values file as it is, and the defaults on the CDN path alone. */
const cases: Array<{ name: string; args: string[]; mode: 'cdn' | 'p2p' }> = [
  ...ciFiles.map((f) => {
    const values = parse(readFileSync(join(CHART, 'ci', f), 'utf8')) as { mode?: string } | null;
    return { name: f, args: ['-f', join(CHART, 'ci', f)], mode: (values?.mode ?? 'p2p') as 'cdn' | 'p2p' };
  }),
  { name: 'defaults, mode cdn', args: ['--set', 'mode=cdn'], mode: 'cdn' as const },
];

interface ChunkRow {
  viewer: string;
  seq: number;
  path: string;
}

function readRows(file: string): ChunkRow[] {
  if (!existsSync(file)) return [];
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const cols = header!.split(',');
  const at = (name: string) => cols.indexOf(name);
  return lines
    .filter(Boolean)
    .map((l) => l.split(','))
    .map((f) => ({
      viewer: f[at('viewer')]!,
      seq: Number(f[at('seq')]),
      path: f[at('path')]!,
    }));
}

class UpProcess {
  readonly child: ChildProcess;
  out = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly state: string,
    args: string[],
  ) {
    this.child = spawn(process.execPath, [CLI, 'up', ...args, '--state', state], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => (this.out += d));
    this.child.stderr!.on('data', (d) => (this.out += d));
    this.exited = new Promise((r) => this.child.on('exit', (code) => r(code)));
  }

  read(): UpState | undefined {
    try {
      return JSON.parse(readFileSync(join(this.state, 'up.json'), 'utf8')) as UpState;
    } catch {
      return undefined;
    }
  }

  async until<T>(what: string, timeoutMs: number, check: () => T | undefined | false): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v) return v;
      if (this.child.exitCode !== null)
        assert.fail(`livepath up exited (${this.child.exitCode}) waiting for ${what}:\n${this.out}`);
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}:\n${this.out.slice(-4000)}`);
      await sleep(250);
    }
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGINT');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 60_000);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}

/**
 * Pushes a test pattern over RTMP, as OBS would, to the release's ingest Service, and pushes
 * again when the push fails (the sidecar may not be up yet). Returns the function that stops it.
 */
function broadcast(address: string, key = 'stream'): () => void {
  let child: ChildProcess | undefined;
  let stopped = false;
  const push = () => {
    if (stopped) return;
    child = spawn(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-re'],
        ...['-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440'],
        ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-c:a', 'aac'],
        ...['-f', 'flv', `rtmp://${address}/live/${key}`],
      ],
      { stdio: 'ignore' },
    );
    child.on('exit', () => setTimeout(push, 500));
  };
  push();
  return () => {
    stopped = true;
    child?.kill('SIGKILL');
  };
}

for (const c of cases) {
  test(`livepath up (${c.name}): streams to every viewer, survives a peers pod restart, passes helm test and the dashboards`, {
    skip,
    timeout: 300_000,
  }, async () => {
    const dir = tempDir('up');
    const state = join(dir, 'state');
    const up = new UpProcess(state, [
      ...c.args,
      '--release',
      'lp',
      '--namespace',
      'livepath-ci',
      '--order-seed',
      '20',
      '--stagger-ms',
      '300',
      '--restart-backoff',
      '1',
    ]);
    const extra: Array<() => void> = [];
    let prometheus: PrometheusRun | undefined;
    try {
      const first = await up.until('up.json', 60_000, () => up.read());
      // Pods start in a shuffled order, not the chart's.
      assert.notDeepEqual(first.startOrder, [...first.startOrder].sort(), 'a shuffled start order');
      const ingest = first.services.find((s) => s.name.endsWith('-ingest'));
      if (ingest) extra.push(broadcast(`${ingest.clusterIP}:1935`));
      await up.until('every pod ready', 120_000, () => /every pod is ready/.test(up.out));

      const peerPods = () => up.read()!.pods.filter((p) => p.labels['app.kubernetes.io/component'] === 'peer');
      const chunksOf = (dirOf: string) => readRows(join(dirOf, 'volumes', 'results', 'peers.chunks.csv'));
      const scenario = parse(
        readFileSync(join(peerPods()[0]!.dir, 'volumes', 'scenario', 'scenario.yaml'), 'utf8'),
      ) as { stream: { chunkDurationMs: number } };
      const chunkUs = scenario.stream.chunkDurationMs * 1000;
      // Every viewer of every peers pod receives.
      const viewersOf = new Map<string, Set<string>>();
      await up.until('chunks at every viewer', 90_000, () => {
        let all = true;
        for (const p of peerPods()) {
          const rows = chunksOf(p.dir);
          const counts = new Map<string, number>();
          for (const r of rows) counts.set(r.viewer, (counts.get(r.viewer) ?? 0) + 1);
          const log = readFileSync(join(p.dir, 'logs', 'peers.log'), 'utf8');
          const expected = Number(/"viewers":(\d+),"mode"/.exec(log)?.[1] ?? Number.NaN);
          viewersOf.set(p.name, new Set(counts.keys()));
          if (!(counts.size === expected && [...counts.values()].every((n) => n >= 4))) all = false;
        }
        return all;
      });

      // One peers pod's container is killed; the kubelet (up) restarts it.
      const victim = peerPods().at(-1)!;
      const beforeKill = chunksOf(victim.dir);
      const newestBefore = Math.max(...beforeKill.map((r) => r.seq));
      const pid = victim.containers[0]!.pid!;
      process.kill(pid, 'SIGKILL');
      await up.until('the killed pod restarted and ready', 60_000, () => {
        const p = up.read()!.pods.find((x) => x.name === victim.name)!;
        return p.containers[0]!.restarts >= 1 && p.ready;
      });
      await up.until('its viewers streaming again', 60_000, () =>
        chunksOf(victim.dir).some((r) => r.seq > newestBefore),
      );
      // The restarted container appends to its records in the pod's emptyDir: nothing received is lost.
      assert.ok(chunksOf(victim.dir).length > beforeKill.length);
      assert.ok(
        chunksOf(victim.dir).some((r) => r.seq === newestBefore),
        'the records from before the kill are kept',
      );
      await sleep(4_000);

      // `helm test`: the chart's probe pod, against this release.
      const t = await runCli(['up', 'test', '--state', state], { timeoutMs: 120_000 });
      assert.equal(t.code, 0, `livepath up test:\n${t.stdout}${t.stderr}`);
      assert.match(t.stdout, /Phase:\s+Succeeded/);

      // Every dashboard query has series: the chart's own Prometheus when it ships one, else
      // one scraping every pod as a Prometheus Operator would through the ServiceMonitor.
      const s = up.read()!;
      const chartProm = s.pods.find((p) => p.labels['app.kubernetes.io/component'] === 'prometheus');
      let url: string;
      if (chartProm) url = `http://${chartProm.ip}:9090`;
      else {
        prometheus = await startPrometheus({ outDir: dir });
        for (const p of s.pods) {
          const role = p.labels['livepath.io/role'];
          if (!role) continue;
          await prometheus.addTargets(p.labels['livepath.io/job']!, [
            {
              address: `${p.ip}:9464`,
              labels: { role, ...(p.labels['livepath.io/region'] && { region: p.labels['livepath.io/region'] }) },
            },
          ]);
        }
        url = prometheus.url;
      }
      let check = { code: null as number | null, stdout: '' };
      for (let i = 0; i < 30; i++) {
        check = await runCli(['dashboards', 'check', '--prometheus', url], { timeoutMs: 60_000 });
        if (check.code === 0) break;
        await sleep(2_000);
      }
      assert.equal(check.code, 0, `dashboards check:\n${check.stdout}`);
      if (chartProm) {
        // Each process labels its own series: no exported_role / exported_region beside them.
        const r = await fetch(
          `${url}/api/v1/query?query=${encodeURIComponent('count({exported_role=~".+"} or {exported_region=~".+"})')}`,
        );
        const body = (await r.json()) as { data: { result: unknown[] } };
        assert.deepEqual(body.data.result, [], 'series with exported_* labels');
      }

      // Stop: every pod stops, and the records are complete.
      const code = await up.stop();
      assert.equal(code, 130, up.out.slice(-2000));
      for (const p of s.pods)
        for (const ct of p.containers)
          if (ct.pid) assert.throws(() => process.kill(ct.pid!, 0), `${p.name}/${ct.name} still running`);

      // 0 chunks lost at the viewers of every other pod, from the first chunk each received up to
      // the newest any viewer received, less 3 s (what may still have been on its way at the stop;
      // real video is not cut on the nominal chunk grid, so the grid cannot say what was produced).
      const peerRows = new Map(
        s.pods
          .filter((x) => x.labels['app.kubernetes.io/component'] === 'peer')
          .map((p) => [p.name, chunksOf(p.dir)] as const),
      );
      const newest = Math.max(...[...peerRows.values()].flatMap((rows) => rows.map((r) => r.seq)));
      const lastSeq = newest - Math.ceil(3_000_000 / chunkUs);
      // Chunks by the path they came on (synthetic chunks are all one size: the share is the offload).
      const chunks = { cdn: 0, peer: 0 };
      for (const p of s.pods.filter((x) => x.labels['app.kubernetes.io/component'] === 'peer')) {
        const rows = peerRows.get(p.name)!;
        for (const r of rows) chunks[r.path === 'peer' ? 'peer' : 'cdn']++;
        if (p.name === victim.name) continue;
        const byViewer = new Map<string, Set<number>>();
        for (const r of rows) (byViewer.get(r.viewer) ?? byViewer.set(r.viewer, new Set()).get(r.viewer)!).add(r.seq);
        assert.deepEqual([...byViewer.keys()].sort(), [...viewersOf.get(p.name)!].sort(), `${p.name}: every viewer`);
        for (const [viewer, seqs] of byViewer) {
          const from = Math.min(...seqs);
          const lost: number[] = [];
          for (let k = from; k <= lastSeq; k++) if (!seqs.has(k)) lost.push(k);
          assert.deepEqual(lost, [], `${p.name}/${viewer}: chunks lost (received ${from}…${Math.max(...seqs)})`);
        }
      }
      if (c.mode === 'p2p')
        assert.ok(chunks.peer > 0, `p2p: ${chunks.peer} of ${chunks.peer + chunks.cdn} chunks by peers`);
      else assert.equal(chunks.peer, 0, 'cdn: every chunk from an edge');
    } finally {
      for (const stop of extra) stop();
      await prometheus?.stop();
      await up.stop();
    }
  });
}
