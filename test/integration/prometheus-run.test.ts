// A real run scraped by a real Prometheus: every process of both modes becomes a target as it
// comes up, every dashboard query returns series while the peer path runs, each role's live
// exposition passes `promtool check metrics`, and the offload Prometheus computes from the
// delivered-bytes counters is the one summary.json reports.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { loadPlan } from '../../services/runtime/plan.js';
import { runExperiment } from '../../services/lab/experiment.js';
import { startPrometheus, type PrometheusRun } from '../../services/lab/prometheus.js';
import {
  allQueriesOk,
  checkDashboards,
  formatCheckResults,
  type CheckResult,
} from '../../services/lab/commands/dashboards.js';
import { assertNoChunkBelowBound, readJson, runCli, smallScenario, tempDir, writeScenario } from '../helpers/cli.js';

const prometheusMissing = spawnSync('prometheus', ['--version']).error !== undefined;
const promtoolMissing = spawnSync('promtool', ['--version']).error !== undefined;
const skip =
  (prometheusMissing || promtoolMissing) &&
  "prometheus/promtool not on PATH: install Debian's `prometheus` package (scripts/test.sh does as root)";

// scenarios/small.yaml's graph, with the origin serving one viewer and the edge none, so the peer
// path carries most bytes; 10 s leaves room for the live checks after Prometheus' 5 s
// target-update throttle.
const SCENARIO = smallScenario('small-prometheus', { overlay: { originSlots: 1, edgeSlots: 0 } });

const ROLES = ['origin', 'edge', 'peer', 'tracker'] as const;

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function api<T>(prometheus: PrometheusRun, path: string, params: Record<string, string>): Promise<T> {
  const res = await fetch(`${prometheus.url}/api/v1/${path}?${new URLSearchParams(params)}`);
  const body = (await res.json()) as { status: string; error?: string; data: T };
  assert.equal(body.status, 'success', `${path} ${JSON.stringify(params)}: ${body.error}`);
  return body.data;
}

const query = async (prometheus: PrometheusRun, expr: string): Promise<Sample[]> =>
  (await api<{ result: Sample[] }>(prometheus, 'query', { query: expr })).result;

interface LiveChecks {
  dashboards: CheckResult[] | undefined;
  /** role → promtool's exit status and output on a scrape of that role's process */
  promtool: Map<string, { status: number | null; output: string }>;
  cli: { code: number | null; stdout: string } | undefined;
}

/**
 * Runs while the p2p mode's processes are alive (gauges of stopped processes go stale): retries
 * the dashboard check until every query has series or the mode is over.
 */
async function checkWhileRunning(prometheus: PrometheusRun, modeOver: () => boolean): Promise<LiveChecks> {
  const live: LiveChecks = { dashboards: undefined, promtool: new Map(), cli: undefined };
  while (!modeOver()) {
    live.dashboards = await checkDashboards({ prometheusUrl: prometheus.url });
    if (allQueriesOk(live.dashboards)) break;
    await sleep(500);
  }
  const targets = await api<{
    activeTargets: Array<{ scrapeUrl: string; health: string; labels: Record<string, string> }>;
  }>(prometheus, 'targets', { state: 'active' });
  for (const role of ROLES) {
    const t = targets.activeTargets.find((x) => x.labels.role === role && x.labels.mode === 'p2p' && x.health === 'up');
    if (!t) continue;
    const res = await fetch(t.scrapeUrl).catch(() => undefined);
    if (!res?.ok) continue;
    const r = spawnSync('promtool', ['check', 'metrics'], { input: await res.text(), encoding: 'utf8' });
    live.promtool.set(role, { status: r.status, output: `${r.stdout}${r.stderr}` });
  }
  if (!modeOver())
    live.cli = await runCli(['dashboards', 'check', '--prometheus', prometheus.url], { timeoutMs: 30_000 });
  return live;
}

test('a run with Prometheus: targets per process, dashboards with data, offload as in summary.json', {
  skip,
  timeout: 180_000,
}, async (t) => {
  const dir = tempDir('prometheus-run');
  const scenarioPath = writeScenario(dir, 'small-prometheus', SCENARIO);
  const out = join(dir, 'run');
  const prometheus = await startPrometheus({ outDir: out });
  try {
    let live: Promise<LiveChecks> | undefined;
    let p2pOver = false;
    const result = await runExperiment({
      plan: loadPlan(scenarioPath),
      scenarioPath,
      modes: ['cdn', 'p2p'],
      out,
      prometheus,
      progress: (mode, p) => {
        // The p2p mode's first progress comes once its processes are up and registered.
        if (mode === 'p2p' && live === undefined && p.produced > 0) live = checkWhileRunning(prometheus, () => p2pOver);
      },
    });
    p2pOver = true;
    assertNoChunkBelowBound(out);
    assert.deepEqual(
      result.summaries.map((s) => s.mode),
      ['cdn', 'p2p'],
    );
    assert.ok(live, 'the p2p mode reported progress');
    const checks = await live;

    assert.ok(
      checks.dashboards && allQueriesOk(checks.dashboards),
      checks.dashboards ? formatCheckResults(checks.dashboards) : 'no dashboard check ran',
    );
    for (const role of ROLES) {
      const r = checks.promtool.get(role);
      assert.ok(r, `a live scrape of the ${role} process was checked`);
      assert.equal(r.status, 0, `promtool check metrics on the ${role} process:\n${r.output}`);
    }
    assert.ok(checks.cli, '`livepath dashboards check` ran while the run was live');
    assert.equal(checks.cli.code, 0, checks.cli.stdout);
    assert.match(checks.cli.stdout, /\d+ queries: \d+ ok, 0 empty, 0 error/);

    // Every process of both modes was a target, under the chart's job names.
    const ups = await query(prometheus, 'count by (job, mode) (max_over_time(up[10m]))');
    const jobs = ups.map((s) => `${s.metric.mode}/${s.metric.job}`).sort();
    assert.deepEqual(jobs, [
      'cdn/livepath-edge',
      'cdn/livepath-origin',
      'cdn/livepath-peer',
      'p2p/livepath-edge',
      'p2p/livepath-origin',
      'p2p/livepath-peer',
      'p2p/livepath-tracker',
    ]);

    // Both paths' delays are series (their processes are gone now: ask for series, not values).
    const now = Date.now() / 1000;
    for (const path of ['cdn', 'peer']) {
      const series = await api<unknown[]>(prometheus, 'series', {
        'match[]': `livepath_chunk_delay_seconds_count{path="${path}"}`,
        start: String(now - 600),
        end: String(now),
      });
      assert.ok(series.length > 0, `livepath_chunk_delay_seconds_count{path="${path}"} exists`);
    }

    // Offload in PromQL: the final value of each delivered-bytes counter of the p2p mode's targets.
    const delivered = (selector: string) => `sum(max_over_time(livepath_delivered_bytes_total{${selector}}[10m]))`;
    const [offload] = await query(prometheus, `${delivered('mode="p2p",path="peer"')} / ${delivered('mode="p2p"')}`);
    assert.ok(offload, 'offload computed in PromQL');
    const p2p = readJson<{ offload: number }>(join(out, 'p2p', 'summary.json'));
    assert.ok(p2p.offload > 0.3, `the peer path carried bytes (offload ${p2p.offload})`);
    const promOffload = Number(offload.value[1]);
    t.diagnostic(`offload: Prometheus ${promOffload.toFixed(4)}, summary.json ${p2p.offload}`);
    assert.ok(
      Math.abs(promOffload - p2p.offload) <= 0.02,
      `offload in Prometheus ${promOffload} vs summary.json ${p2p.offload}`,
    );
  } finally {
    await prometheus.stop();
  }
});
