// Prometheus metrics of every livepath process: one Registry per process (never prom-client's
// global one), holding the chunk delay/stretch/offload series and Node process metrics, plus the
// small HTTP server that exposes it to Prometheus.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import {
  DELAY_BUCKETS_SECONDS,
  EMULATION_ERROR_BUCKETS_SECONDS,
  EXCESS_BUCKETS_SECONDS,
  JOIN_BUCKETS_SECONDS,
  METRICS_PATH,
  MISNAMED_DEFAULT_METRICS,
  RTT_ERROR_BUCKETS_RATIO,
  STRETCH_BUCKETS_RATIO,
} from './constants.js';
import { MetricsListenError, MetricsPortInUseError } from './errors.js';

export type MetricsRole = 'origin' | 'edge' | 'peer' | 'tracker' | 'lab';

/** Label values of `path`: how a chunk reached the viewer (DESIGN.md, "CDN path" / "peer path"). */
export type PathLabel = 'cdn' | 'peer';
/** Label values of `reason` on re-parents and tracker assignments (tracker.proto Assignment.reason). */
export type ReparentReason = 'join' | 'parent-lost' | 'improve';

export interface MetricsInit {
  role: MetricsRole;
  /**
   * Also export Node process metrics (CPU, heap, event-loop lag). Default true; tests that compare
   * the exposition text turn it off to keep it deterministic.
   */
  processMetrics?: boolean;
}

export interface LivepathMetrics {
  /** The process' own registry: serve it with startMetricsServer, or read it in tests. */
  registry: Registry;
  /** Last byte of chunk k received − chunk k produced at the broadcaster, per viewer and chunk. */
  chunkDelaySeconds: Histogram<'path' | 'region'>;
  /** delay / bound of the viewer. */
  chunkStretchRatio: Histogram<'path' | 'region'>;
  /** delay − bound of the viewer. */
  chunkExcessSeconds: Histogram<'path' | 'region'>;
  /** The viewer's bound, observed once per received chunk so it weighs like the delays. */
  chunkBoundSeconds: Histogram<'region'>;
  /** Bytes of complete chunks delivered to viewers; offload = peer share of its rate. */
  deliveredBytesTotal: Counter<'path'>;
  chunksReceivedTotal: Counter<'path'>;
  chunksLostTotal: Counter;
  /** Chunks that missed their playout deadline on the peer path and were fetched from the CDN. */
  chunksLateTotal: Counter;
  stallsTotal: Counter;
  reparentsTotal: Counter<'reason'>;
  joinSeconds: Histogram;
  viewersActive: Gauge<'region'>;
  /** Fragments currently queued to children in this process (all its virtual nodes). */
  relayQueueFragments: Gauge;
  relayChildren: Gauge;
  relaySentBytesTotal: Counter;
  /** Actual − intended delivery time of a fragment on one emulated hop. */
  emulationErrorSeconds: Histogram;
  trackerPeers: Gauge;
  trackerAssignmentsTotal: Counter<'reason'>;
  /** |measured − true| / true RTT of a proximity probe. */
  proximityRttErrorRatio: Histogram;
  /** Fragments refused by a relay or viewer (never forwarded or played), by reason. */
  fragmentsRejectedTotal: Counter<'reason'>;
  /** Ed25519 verifications made (a fragment already verified in the process costs none). */
  fragmentVerificationsTotal: Counter;
  /** CPU time spent in those verifications. */
  fragmentVerifyCpuSecondsTotal: Counter;
  /** Things refused or cut to keep a process bounded or honest (limits, bans), by reason. */
  limitedTotal: Counter<'reason'>;
  /**
   * Reads state that already exists in the process (relay nodes' queues, children and sent bytes,
   * the tracker's peer count) when Prometheus scrapes, so the hot paths do no metric work.
   */
  sampleOnScrape(source: ScrapeSource): void;
}

/** What a relay node exposes for sampling (services/relay/node.ts RelayNode). */
export interface RelayStats {
  readonly queuedFragments: number;
  readonly childCount: number;
  readonly sentBytes: number;
}

export interface ScrapeSource {
  /** Every relay node of the process (origin: 1, edge: 1, peers: one per viewer). */
  relays?: () => Iterable<RelayStats>;
  trackerPeers?: () => number;
}

/** Every livepath metric name, for dashboards and tests that must not drift from the code. */
export const METRIC_NAMES = {
  chunkDelaySeconds: 'livepath_chunk_delay_seconds',
  chunkStretchRatio: 'livepath_chunk_stretch_ratio',
  chunkExcessSeconds: 'livepath_chunk_excess_seconds',
  chunkBoundSeconds: 'livepath_chunk_bound_seconds',
  deliveredBytesTotal: 'livepath_delivered_bytes_total',
  chunksReceivedTotal: 'livepath_chunks_received_total',
  chunksLostTotal: 'livepath_chunks_lost_total',
  chunksLateTotal: 'livepath_chunks_late_total',
  stallsTotal: 'livepath_stalls_total',
  reparentsTotal: 'livepath_reparents_total',
  joinSeconds: 'livepath_join_seconds',
  viewersActive: 'livepath_viewers_active',
  relayQueueFragments: 'livepath_relay_queue_fragments',
  relayChildren: 'livepath_relay_children',
  relaySentBytesTotal: 'livepath_relay_sent_bytes_total',
  emulationErrorSeconds: 'livepath_emulation_error_seconds',
  trackerPeers: 'livepath_tracker_peers',
  trackerAssignmentsTotal: 'livepath_tracker_assignments_total',
  proximityRttErrorRatio: 'livepath_proximity_rtt_error_ratio',
  fragmentsRejectedTotal: 'livepath_fragments_rejected_total',
  fragmentVerificationsTotal: 'livepath_fragment_verifications_total',
  fragmentVerifyCpuSecondsTotal: 'livepath_fragment_verify_cpu_seconds_total',
  limitedTotal: 'livepath_limited_total',
} as const satisfies Record<Exclude<keyof LivepathMetrics, 'registry' | 'sampleOnScrape'>, string>;

/**
 * Creates the metrics of one process. A process hosting many virtual peers calls this once and
 * shares the result: their observations aggregate in one registry, labelled by path and region.
 */
export function createMetrics(init: MetricsInit): LivepathMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ role: init.role });
  if (init.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    for (const name of MISNAMED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }
  const registers = [registry];

  const histogram = <T extends string>(
    name: string,
    help: string,
    labelNames: readonly T[],
    buckets: readonly number[],
  ): Histogram<T> => new Histogram<T>({ name, help, labelNames, buckets: [...buckets], registers });
  const counter = <T extends string>(name: string, help: string, labelNames: readonly T[]): Counter<T> =>
    new Counter<T>({ name, help, labelNames, registers });
  const gauge = <T extends string>(
    name: string,
    help: string,
    labelNames: readonly T[],
    collect?: () => void,
  ): Gauge<T> => new Gauge<T>({ name, help, labelNames, registers, ...(collect && { collect }) });
  const N = METRIC_NAMES;

  // Sampled at scrape time from whatever sampleOnScrape was given; without a source the metrics
  // keep what was set on them directly (tests, processes without relays).
  let source: ScrapeSource = {};
  const sumRelays = (pick: (r: RelayStats) => number): number | undefined => {
    if (!source.relays) return undefined;
    let n = 0;
    for (const r of source.relays()) n += pick(r);
    return n;
  };
  let sentBytesReported = 0;

  const metrics: LivepathMetrics = {
    registry,
    chunkDelaySeconds: histogram(
      N.chunkDelaySeconds,
      'Chunk delay at the viewer: last byte received minus produced at the broadcaster.',
      ['path', 'region'],
      DELAY_BUCKETS_SECONDS,
    ),
    chunkStretchRatio: histogram(
      N.chunkStretchRatio,
      "Chunk delay divided by the viewer's bound (1 = physically optimal).",
      ['path', 'region'],
      STRETCH_BUCKETS_RATIO,
    ),
    chunkExcessSeconds: histogram(
      N.chunkExcessSeconds,
      "Chunk delay minus the viewer's bound.",
      ['path', 'region'],
      EXCESS_BUCKETS_SECONDS,
    ),
    chunkBoundSeconds: histogram(
      N.chunkBoundSeconds,
      "Viewer's bound (shortest propagation plus one chunk at the bottleneck), once per received chunk.",
      ['region'],
      DELAY_BUCKETS_SECONDS,
    ),
    deliveredBytesTotal: counter(
      N.deliveredBytesTotal,
      'Bytes of complete chunks delivered to viewers, by delivery path.',
      ['path'],
    ),
    chunksReceivedTotal: counter(N.chunksReceivedTotal, 'Complete chunks received by viewers.', ['path']),
    chunksLostTotal: counter(N.chunksLostTotal, 'Chunks a viewer never received before playout.', []),
    chunksLateTotal: counter(
      N.chunksLateTotal,
      'Chunks that missed their playout deadline on the peer path and fell back to the CDN.',
      [],
    ),
    stallsTotal: counter(N.stallsTotal, 'Playout stalls (buffer ran empty) at viewers.', []),
    reparentsTotal: counter(N.reparentsTotal, 'Parent changes of peers, by reason.', ['reason']),
    joinSeconds: histogram(
      N.joinSeconds,
      "Time from a viewer's join to its first complete chunk.",
      [],
      JOIN_BUCKETS_SECONDS,
    ),
    viewersActive: gauge(N.viewersActive, 'Viewers currently watching, by region.', ['region']),
    relayQueueFragments: gauge(
      N.relayQueueFragments,
      'Fragments currently queued to children by the relays of this process.',
      [],
      () => {
        const n = sumRelays((r) => r.queuedFragments);
        if (n !== undefined) metrics.relayQueueFragments.set(n);
      },
    ),
    relayChildren: gauge(N.relayChildren, 'Children currently subscribed to the relays of this process.', [], () => {
      const n = sumRelays((r) => r.childCount);
      if (n !== undefined) metrics.relayChildren.set(n);
    }),
    relaySentBytesTotal: new Counter({
      name: N.relaySentBytesTotal,
      help: 'Chunk bytes sent to children by the relays of this process.',
      registers,
      collect: () => {
        // Nodes only ever add to their sentBytes: the counter follows the sum.
        const n = sumRelays((r) => r.sentBytes);
        if (n !== undefined && n > sentBytesReported) {
          metrics.relaySentBytesTotal.inc(n - sentBytesReported);
          sentBytesReported = n;
        }
      },
    }),
    emulationErrorSeconds: histogram(
      N.emulationErrorSeconds,
      "Link emulation error per hop: how much later than the model a message's bytes reached the receiver (0 when in time).",
      [],
      EMULATION_ERROR_BUCKETS_SECONDS,
    ),
    trackerPeers: gauge(N.trackerPeers, 'Peers currently admitted by the tracker.', [], () => {
      if (source.trackerPeers) metrics.trackerPeers.set(source.trackerPeers());
    }),
    trackerAssignmentsTotal: counter(N.trackerAssignmentsTotal, 'Parent assignments sent by the tracker, by reason.', [
      'reason',
    ]),
    proximityRttErrorRatio: histogram(
      N.proximityRttErrorRatio,
      'Proximity estimate error: |measured - true| / true round-trip time.',
      [],
      RTT_ERROR_BUCKETS_RATIO,
    ),
    fragmentsRejectedTotal: counter(
      N.fragmentsRejectedTotal,
      "Fragments refused before being stored, forwarded or played: signature (not the origin's), unsigned, replay (older than any relay keeps), malformed.",
      ['reason'],
    ),
    fragmentVerificationsTotal: counter(
      N.fragmentVerificationsTotal,
      'Ed25519 verifications of fragments (once per distinct fragment per process).',
      [],
    ),
    fragmentVerifyCpuSecondsTotal: counter(
      N.fragmentVerifyCpuSecondsTotal,
      'CPU time spent verifying fragment signatures.',
      [],
    ),
    limitedTotal: counter(
      N.limitedTotal,
      'Requests refused or peers cut to keep this process bounded or honest, by reason.',
      ['reason'],
    ),
    sampleOnScrape: (s) => {
      source = s;
    },
  };
  return metrics;
}

export interface MetricsServer {
  /** Full URL of the exposition, e.g. http://127.0.0.1:9464/metrics */
  url: string;
  /** The port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/** Serves `GET /metrics` from the registry. Port 0 picks a free port. */
export async function startMetricsServer(
  registry: Registry,
  options: { host: string; port: number },
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname !== METRICS_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: metrics are at ${METRICS_PATH}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        // A failing collect callback must not kill the process that is being measured.
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`collecting metrics failed: ${String(err)}\n`);
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EADDRINUSE') reject(new MetricsPortInUseError(options.port, { cause: err }));
      else reject(new MetricsListenError(options.host, options.port, err.code ?? err.message, { cause: err }));
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const port = (server.address() as AddressInfo).port;
  const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${hostInUrl}:${port}${METRICS_PATH}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Prometheus keeps scrape connections alive; without this close() waits for its timeout.
        server.closeAllConnections();
      }),
  };
}
