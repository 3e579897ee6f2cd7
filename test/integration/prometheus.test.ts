// End to end: a real Prometheus started by startPrometheus scrapes stand-in livepath processes
// found through file-based service discovery, and every dashboard query runs ok and non-empty.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { DASHBOARDS_DIR } from '../../grafana/build.js';
import { allQueriesOk, checkDashboards, formatCheckResults } from '../../services/lab/commands/dashboards.js';
import { PrometheusNotFoundError, startPrometheus, type PrometheusRun } from '../../services/lab/prometheus.js';
import {
  createMetrics,
  startMetricsServer,
  type LivepathMetrics,
  type MetricsServer,
} from '../../services/metrics/index.js';

const prometheusMissing = spawnSync('prometheus', ['--version']).error !== undefined;
const skip = prometheusMissing && 'prometheus binary not on PATH (apt-get install prometheus)';

/** Generous bound so a loaded CI host cannot hang the suite; Prometheus applies new targets every 5 s. */
const SCRAPE_WAIT_MS = 60_000;

/** What a busy viewer process would record in a quarter second: some cdn and some peer chunks. */
function observeChunks(m: LivepathMetrics, tick: number): void {
  for (const [path, region, delaySeconds, boundSeconds] of [
    ['cdn', 'tokyo', 0.18, 0.07],
    ['peer', 'tokyo', 0.09, 0.07],
    ['peer', 'osaka', 0.11, 0.08],
  ] as const) {
    m.chunkDelaySeconds.observe({ path, region }, delaySeconds + (tick % 5) * 0.002);
    m.chunkStretchRatio.observe({ path, region }, delaySeconds / boundSeconds);
    m.chunkExcessSeconds.observe({ path, region }, delaySeconds - boundSeconds);
    m.chunkBoundSeconds.observe({ region }, boundSeconds);
    m.deliveredBytesTotal.inc({ path }, 62_500);
    m.chunksReceivedTotal.inc({ path });
  }
  m.chunksLostTotal.inc();
  m.chunksLateTotal.inc();
  m.stallsTotal.inc();
  m.reparentsTotal.inc({ reason: tick % 2 === 0 ? 'join' : 'improve' });
  m.joinSeconds.observe(0.6);
  m.viewersActive.set({ region: 'tokyo' }, 8);
  m.viewersActive.set({ region: 'osaka' }, 4);
  m.relayQueueFragments.set(tick % 7);
  m.relayChildren.set(3);
  m.relaySentBytesTotal.inc(16_384);
  m.emulationErrorSeconds.observe(0.0004);
  m.proximityRttErrorRatio.observe(0.15);
}

async function instantQuery(
  run: PrometheusRun,
  query: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${run.url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as {
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  return body.data.result;
}

describe('per-run Prometheus', { skip }, () => {
  let outDir: string;
  let run: PrometheusRun;
  let peer: LivepathMetrics;
  let edge: LivepathMetrics;
  let tracker: LivepathMetrics;
  const servers: MetricsServer[] = [];
  let ticker: NodeJS.Timeout;

  before(async () => {
    outDir = await mkdtemp(path.join(os.tmpdir(), 'livepath-prometheus-'));
    peer = createMetrics({ role: 'peer' });
    edge = createMetrics({ role: 'edge' });
    tracker = createMetrics({ role: 'tracker' });
    let tick = 0;
    observeChunks(peer, tick);
    // As the services do at start: each rejection and ban reason has a series at 0.
    edge.fragmentsRejectedTotal.inc({ reason: 'signature' }, 0);
    tracker.limitedTotal.inc({ reason: 'banned-signature' }, 0);
    // Keep counting so every rate() over the scrape window is non-zero, as in a live run.
    ticker = setInterval(() => {
      tick++;
      observeChunks(peer, tick);
      edge.relaySentBytesTotal.inc(65_536);
      edge.relayChildren.set(8);
      tracker.trackerPeers.set(12);
      tracker.trackerAssignmentsTotal.inc({ reason: 'join' });
    }, 250);
    for (const m of [peer, edge, tracker])
      servers.push(await startMetricsServer(m.registry, { host: '127.0.0.1', port: 0 }));
    run = await startPrometheus({ outDir });
  });

  after(async () => {
    clearInterval(ticker);
    await run?.stop();
    for (const s of servers) await s.close();
    await rm(outDir, { recursive: true, force: true });
  });

  it('writes a file_sd config scraping every second into the run folder', async () => {
    const config = await readFile(path.join(outDir, 'prometheus', 'prometheus.yml'), 'utf8');
    assert.equal(run.configPath, path.join(outDir, 'prometheus', 'prometheus.yml'));
    assert.match(config, /scrape_interval: 1s/);
    assert.match(config, new RegExp(`- ${path.join(outDir, 'prometheus', 'targets')}/\\*\\.json`));
    assert.match(config, /refresh_interval: 1s/);
    assert.match(run.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('scrapes targets added at run time, and every dashboard query is ok and non-empty', async () => {
    const [peerServer, edgeServer, trackerServer] = servers;
    await run.addTargets('livepath-peer', [{ address: `127.0.0.1:${peerServer!.port}`, labels: { role: 'peer' } }]);
    await run.addTargets('livepath-edge', [
      { address: `127.0.0.1:${edgeServer!.port}`, labels: { role: 'edge', region: 'paris' } },
    ]);
    await run.addTargets('livepath-tracker', [
      { address: `127.0.0.1:${trackerServer!.port}`, labels: { role: 'tracker' } },
    ]);
    const targetsFile = JSON.parse(
      await readFile(path.join(outDir, 'prometheus', 'targets', 'livepath-edge.json'), 'utf8'),
    );
    assert.deepEqual(targetsFile, [
      { targets: [`127.0.0.1:${edgeServer!.port}`], labels: { role: 'edge', region: 'paris', job: 'livepath-edge' } },
    ]);

    // rate() needs two samples of every target inside the 1m window the check substitutes.
    const deadline = Date.now() + SCRAPE_WAIT_MS;
    for (;;) {
      const samples = await instantQuery(run, 'min(count_over_time(up[1m])) and count(up) == 3');
      if (samples.length > 0 && Number(samples[0]!.value[1]) >= 3) break;
      assert.ok(
        Date.now() < deadline,
        `targets not scraped within ${SCRAPE_WAIT_MS / 1000} s; see ${outDir}/prometheus/prometheus.log`,
      );
      await sleep(500);
    }

    const up = await instantQuery(run, 'up');
    assert.deepEqual(up.map((s) => [s.metric.job, s.metric.role, s.value[1]]).sort(), [
      ['livepath-edge', 'edge', '1'],
      ['livepath-peer', 'peer', '1'],
      ['livepath-tracker', 'tracker', '1'],
    ]);
    // A process' own labels win over target labels (honor_labels): viewer regions stay intact.
    const viewers = await instantQuery(run, 'livepath_viewers_active');
    assert.deepEqual(viewers.map((s) => s.metric.region).sort(), ['osaka', 'tokyo']);
    assert.ok(viewers.every((s) => s.metric.exported_region === undefined && s.metric.job === 'livepath-peer'));

    const results = await checkDashboards({ prometheusUrl: run.url });
    assert.ok(results.length > 20);
    assert.ok(allQueriesOk(results), formatCheckResults(results));
    // The committed JSON must hold the same queries and pass too.
    const fromFiles = await checkDashboards({ prometheusUrl: run.url, dashboardsDir: DASHBOARDS_DIR });
    assert.equal(fromFiles.length, results.length);
    assert.ok(allQueriesOk(fromFiles), formatCheckResults(fromFiles));
  });

  it('stops without leaving the process behind', async () => {
    const { pid } = run;
    await run.stop();
    await run.stop();
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  });
});

describe('startPrometheus without a binary', () => {
  it('names the missing binary and how to get one', async () => {
    const outDir = await mkdtemp(path.join(os.tmpdir(), 'livepath-prometheus-'));
    const savedPath = process.env.PATH;
    try {
      await assert.rejects(
        startPrometheus({ outDir, bin: path.join(outDir, 'no-such-prometheus') }),
        PrometheusNotFoundError,
      );
      process.env.PATH = outDir;
      await assert.rejects(startPrometheus({ outDir }), {
        name: 'PrometheusNotFoundError',
        message: "prometheus not found on PATH: install Debian's `prometheus` package or pass --prometheus-bin PATH",
      });
    } finally {
      process.env.PATH = savedPath;
      await rm(outDir, { recursive: true, force: true });
    }
  });
});
