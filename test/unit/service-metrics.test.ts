// The metrics wiring of the services: a peers process observes completed chunks by path and
// region, counts stalls, joins, re-parents and fallbacks, and relay state is read at scrape time.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createMetrics } from '../../services/metrics/index.js';
import { ViewerMetrics } from '../../services/peer/metrics.js';
import type { ChunkRecord } from '../../services/results/chunks.js';
import { fakePlan } from '../helpers/fake-plan.js';

/** The sample `name{…}` carrying every one of `labels` (prom-client puts default labels first). */
const value = async (
  m: ReturnType<typeof createMetrics>,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> => {
  const text = await m.registry.metrics();
  const hit = text
    .split('\n')
    .find(
      (l) =>
        (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) &&
        Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
    );
  assert.ok(hit, `no ${name} ${JSON.stringify(labels)} in\n${text}`);
  return Number(hit.split(' ').pop());
};

const chunk = (viewer: string, path: 'cdn' | 'peer', delayMs: number, receivedAtUs = 2_000_000): ChunkRecord => ({
  viewer,
  seq: 0,
  producedAtUs: 0,
  receivedAtUs,
  delayMs,
  boundMs: 10,
  path,
  hops: 2,
  parent: 'edge',
  bytes: 62_500,
});

test('viewer metrics: delay by path and region, bytes for offload, stalls, join time, re-parents', async () => {
  const plan = fakePlan({ viewers: ['v1', 'v2'] });
  const m = createMetrics({ role: 'peer', processMetrics: false });
  const vm = new ViewerMetrics(m, plan, plan.viewers);
  // Exported before anything happened, so dashboards show 0 rather than no data.
  assert.equal(await value(m, 'livepath_viewers_active', { region: 'test' }), 0);
  assert.equal(await value(m, 'livepath_reparents_total', { reason: 'improve' }), 0);

  vm.joined('v1', 1_000_000);
  vm.joined('v2', 1_000_000);
  vm.chunk(chunk('v1', 'cdn', 20, 1_500_000));
  vm.chunk(chunk('v2', 'peer', 1_200));
  vm.chunk(chunk('v2', 'peer', 30));
  vm.event('reparent', 'v1>v2 improve');
  vm.event('reparent', 'v1>v2 something-unbounded');
  vm.event('fallback', '7@edge');
  vm.left('v2');
  vm.left('v2');

  assert.equal(await value(m, 'livepath_chunk_delay_seconds_count', { path: 'peer', region: 'test' }), 2);
  assert.equal(await value(m, 'livepath_chunk_delay_seconds_count', { path: 'cdn', region: 'test' }), 1);
  assert.equal(await value(m, 'livepath_delivered_bytes_total', { path: 'peer' }), 125_000);
  assert.equal(await value(m, 'livepath_delivered_bytes_total', { path: 'cdn' }), 62_500);
  assert.equal(await value(m, 'livepath_chunk_stretch_ratio_sum', { path: 'cdn' }), 2);
  assert.equal(await value(m, 'livepath_stalls_total'), 1, 'only the chunk over the playout delay');
  assert.equal(await value(m, 'livepath_join_seconds_count'), 2, 'one join time per viewer');
  assert.equal(await value(m, 'livepath_join_seconds_sum'), 1.5);
  assert.equal(await value(m, 'livepath_reparents_total', { reason: 'improve' }), 1);
  assert.doesNotMatch(await m.registry.metrics(), /something-unbounded/);
  assert.equal(await value(m, 'livepath_chunks_late_total'), 1);
  assert.equal(await value(m, 'livepath_viewers_active', { region: 'test' }), 1, 'a second leave does not count twice');
});

test('relay state and tracker peers are read when Prometheus scrapes', async () => {
  const m = createMetrics({ role: 'edge', processMetrics: false });
  const nodes = [
    { queuedFragments: 3, childCount: 2, sentBytes: 1_000 },
    { queuedFragments: 1, childCount: 1, sentBytes: 500 },
  ];
  let peers = 4;
  m.sampleOnScrape({ relays: () => nodes, trackerPeers: () => peers });
  assert.equal(await value(m, 'livepath_relay_queue_fragments'), 4);
  assert.equal(await value(m, 'livepath_relay_children'), 3);
  assert.equal(await value(m, 'livepath_relay_sent_bytes_total'), 1_500);
  nodes[0]!.sentBytes = 3_000;
  nodes[0]!.queuedFragments = 0;
  peers = 6;
  assert.equal(await value(m, 'livepath_relay_sent_bytes_total'), 3_500, 'the counter follows the nodes');
  assert.equal(await value(m, 'livepath_relay_queue_fragments'), 1);
  assert.equal(await value(m, 'livepath_tracker_peers'), 6);
});
