// Tests of services/metrics: metric names and labels follow Prometheus conventions (and promtool),
// observations show up in the exposition as expected, and the metrics server behaves.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import net from 'node:net';
import { describe, it } from 'node:test';
import { register as globalRegistry } from 'prom-client';

import {
  BOUNDED_LABEL_NAMES,
  createMetrics,
  METRIC_NAMES,
  MetricsPortInUseError,
  startMetricsServer,
} from '../../services/metrics/index.js';

const hasPromtool = spawnSync('promtool', ['--version']).status === 0;

/** prom-client keeps a metric's declared label names on the instance (not in its typings). */
function declaredLabelNames(metric: unknown): string[] {
  return [...((metric as { labelNames?: string[] }).labelNames ?? [])];
}

/**
 * Parses an exposition into sample key → value, the key being `name{label="value",…}` with labels
 * sorted, so assertions do not depend on the order prom-client prints labels in.
 */
function parseSamples(exposition: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `unparsable exposition line: ${line}`);
    const labels = [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, k, v]) => `${k}="${v}"`)
      .sort();
    samples.set(`${match[1]}{${labels.join(',')}}`, Number(match[3]));
  }
  return samples;
}

function observeEverything(m: ReturnType<typeof createMetrics>): void {
  m.chunkDelaySeconds.observe({ path: 'cdn', region: 'tokyo' }, 0.123);
  m.chunkDelaySeconds.observe({ path: 'peer', region: 'tokyo' }, 0.04);
  m.chunkStretchRatio.observe({ path: 'cdn', region: 'tokyo' }, 1.8);
  m.chunkExcessSeconds.observe({ path: 'cdn', region: 'tokyo' }, 0.05);
  m.chunkBoundSeconds.observe({ region: 'tokyo' }, 0.07);
  m.deliveredBytesTotal.inc({ path: 'peer' }, 250_000);
  m.chunksReceivedTotal.inc({ path: 'peer' });
  m.chunksLostTotal.inc();
  m.chunksLateTotal.inc();
  m.stallsTotal.inc();
  m.reparentsTotal.inc({ reason: 'parent-lost' });
  m.joinSeconds.observe(0.8);
  m.viewersActive.set({ region: 'tokyo' }, 12);
  m.relayQueueFragments.set(5);
  m.relayChildren.set(4);
  m.relaySentBytesTotal.inc(16_384);
  m.emulationErrorSeconds.observe(0.0003);
  m.trackerPeers.set(12);
  m.trackerAssignmentsTotal.inc({ reason: 'join' });
  m.proximityRttErrorRatio.observe(0.12);
}

describe('createMetrics', () => {
  it('registers every metric of LivepathMetrics under its documented name, in its own registry', async () => {
    const m = createMetrics({ role: 'peer', processMetrics: false });
    const registered = m.registry.getMetricsAsArray().map((metric) => (metric as unknown as { name: string }).name);
    assert.deepEqual([...registered].sort(), Object.values(METRIC_NAMES).sort());
    for (const [field, name] of Object.entries(METRIC_NAMES)) {
      assert.equal((m[field as keyof typeof METRIC_NAMES] as unknown as { name: string }).name, name);
    }
    // Never the global registry: two services in one process must not collide.
    assert.doesNotMatch(await globalRegistry.metrics(), /livepath_/);
    assert.doesNotThrow(() => createMetrics({ role: 'edge', processMetrics: false }));
  });

  it('uses Prometheus naming: livepath_ prefix, _total only on counters, base units', () => {
    const m = createMetrics({ role: 'peer', processMetrics: false });
    for (const metric of m.registry.getMetricsAsArray()) {
      const { name, type } = metric as unknown as { name: string; type: string };
      assert.match(name, /^livepath_[a-z_]+$/);
      assert.equal(name.endsWith('_total'), type === 'counter', `${name} is a ${type}`);
      assert.doesNotMatch(name, /_(ms|milliseconds|us|kb|mb|bits)(_|$)/, `${name} must use base units`);
    }
  });

  it('has no metric with an unbounded label: only role, path, region and reason', () => {
    const m = createMetrics({ role: 'peer', processMetrics: false });
    for (const metric of m.registry.getMetricsAsArray()) {
      for (const label of declaredLabelNames(metric)) {
        assert.ok(
          BOUNDED_LABEL_NAMES.includes(label),
          `${(metric as unknown as { name: string }).name} has label "${label}" outside ${BOUNDED_LABEL_NAMES.join(', ')}`,
        );
      }
    }
  });

  it('puts observations into the expected buckets, sums and counts, with the role label', async () => {
    const m = createMetrics({ role: 'peer', processMetrics: false });
    m.chunkDelaySeconds.observe({ path: 'cdn', region: 'tokyo' }, 0.123);
    m.chunkDelaySeconds.observe({ path: 'cdn', region: 'tokyo' }, 0.6);
    m.chunkDelaySeconds.observe({ path: 'peer', region: 'tokyo' }, 0.04);
    m.deliveredBytesTotal.inc({ path: 'peer' }, 250_000);
    m.deliveredBytesTotal.inc({ path: 'cdn' }, 750_000);
    m.reparentsTotal.inc({ reason: 'improve' });
    m.viewersActive.set({ region: 'tokyo' }, 12);

    const exposition = await m.registry.metrics();
    const samples = parseSamples(exposition);
    const expected: [string, number][] = [
      // 0.123 is above the 0.1 bucket and within 0.15; 0.6 within 0.75
      ['livepath_chunk_delay_seconds_bucket{le="0.1",path="cdn",region="tokyo",role="peer"}', 0],
      ['livepath_chunk_delay_seconds_bucket{le="0.15",path="cdn",region="tokyo",role="peer"}', 1],
      ['livepath_chunk_delay_seconds_bucket{le="0.75",path="cdn",region="tokyo",role="peer"}', 2],
      ['livepath_chunk_delay_seconds_bucket{le="+Inf",path="cdn",region="tokyo",role="peer"}', 2],
      ['livepath_chunk_delay_seconds_count{path="cdn",region="tokyo",role="peer"}', 2],
      ['livepath_chunk_delay_seconds_bucket{le="0.05",path="peer",region="tokyo",role="peer"}', 1],
      ['livepath_chunk_delay_seconds_sum{path="peer",region="tokyo",role="peer"}', 0.04],
      ['livepath_delivered_bytes_total{path="peer",role="peer"}', 250_000],
      ['livepath_delivered_bytes_total{path="cdn",role="peer"}', 750_000],
      ['livepath_reparents_total{reason="improve",role="peer"}', 1],
      ['livepath_viewers_active{region="tokyo",role="peer"}', 12],
      ['livepath_chunks_lost_total{role="peer"}', 0],
    ];
    for (const [key, value] of expected) assert.equal(samples.get(key), value, key);
    const sum = samples.get('livepath_chunk_delay_seconds_sum{path="cdn",region="tokyo",role="peer"}');
    assert.ok(sum !== undefined && Math.abs(sum - 0.723) < 1e-9, `sum ${sum}`);
    // Label values never used produce no series.
    assert.equal(samples.has('livepath_reparents_total{reason="join",role="peer"}'), false);
    assert.match(exposition, /^# TYPE livepath_chunk_delay_seconds histogram$/m);
    assert.match(exposition, /^# TYPE livepath_delivered_bytes_total counter$/m);
  });

  it('includes Node process metrics unless turned off', async () => {
    const withProcess = await createMetrics({ role: 'origin' }).registry.metrics();
    assert.match(withProcess, /^process_cpu_user_seconds_total\{role="origin"\} /m);
    assert.match(withProcess, /^nodejs_eventloop_lag_seconds\{role="origin"\} /m);
    const without = await createMetrics({ role: 'origin', processMetrics: false }).registry.metrics();
    assert.doesNotMatch(without, /process_cpu_user_seconds_total/);
  });

  it('passes `promtool check metrics`, process metrics included', {
    skip: !hasPromtool && 'promtool not on PATH (apt-get install prometheus)',
  }, async () => {
    const m = createMetrics({ role: 'peer' });
    observeEverything(m);
    const exposition = await m.registry.metrics();
    // promtool prints lint problems and exits non-zero; execFileSync turns that into a throw.
    const out = execFileSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
    assert.equal(out.trim(), '');
  });
});

describe('startMetricsServer', () => {
  it('serves the registry on GET /metrics with its content type, 404 elsewhere', async () => {
    const m = createMetrics({ role: 'edge', processMetrics: false });
    m.viewersActive.set({ region: 'paris' }, 3);
    const server = await startMetricsServer(m.registry, { host: '127.0.0.1', port: 0 });
    try {
      assert.ok(server.port > 0);
      assert.equal(server.url, `http://127.0.0.1:${server.port}/metrics`);
      const res = await fetch(server.url);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), m.registry.contentType);
      assert.equal(parseSamples(await res.text()).get('livepath_viewers_active{region="paris",role="edge"}'), 3);
      const other = await fetch(`http://127.0.0.1:${server.port}/`);
      assert.equal(other.status, 404);
      await other.arrayBuffer();
    } finally {
      await server.close();
    }
  });

  it('reports a port in use with a MetricsPortInUseError the user can act on', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const m = createMetrics({ role: 'peer', processMetrics: false });
      await assert.rejects(startMetricsServer(m.registry, { host: '127.0.0.1', port }), (err: unknown) => {
        assert.ok(err instanceof MetricsPortInUseError);
        assert.equal(err.message, `metrics port ${port} is in use: pass --metrics-port 0 or a free port`);
        return true;
      });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
