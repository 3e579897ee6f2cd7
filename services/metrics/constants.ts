// Tunables of the metrics package: histogram buckets and the bounded label vocabulary.
// Buckets are chosen for what livepath measures, not prom-client's HTTP-latency defaults.

/**
 * Chunk delay and bound (seconds). From 5 ms (two hosts in one metro) to 4 s (a multi-hop peer
 * path under queueing on a world-scale scenario); denser under 300 ms because that is where the
 * CDN path and a good peer path differ.
 */
export const DELAY_BUCKETS_SECONDS: readonly number[] = [
  0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 4,
];

/**
 * Stretch = delay / bound. livepath aims well below the 1.5–2 of classic application-level
 * multicast, so the buckets are dense just above 1 where the interesting differences are.
 */
export const STRETCH_BUCKETS_RATIO: readonly number[] = [
  1, 1.02, 1.05, 1.1, 1.15, 1.2, 1.3, 1.4, 1.5, 1.75, 2, 2.5, 3, 4,
];

/** Excess = delay − bound (seconds): 1 ms of emulation noise up to a few chunk times. */
export const EXCESS_BUCKETS_SECONDS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4,
];

/** Join time (seconds): admission + proximity probes + first chunk; churn makes it spread. */
export const JOIN_BUCKETS_SECONDS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

/**
 * Emulation error per hop (seconds): timer lateness is ≈0.1–1 ms when the emulator is healthy;
 * tens of ms means the host is overloaded and the run's delays are not to be trusted.
 */
export const EMULATION_ERROR_BUCKETS_SECONDS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
];

/** |measured − true| / true RTT: Vivaldi-style coordinates are typically within 10–50 %. */
export const RTT_ERROR_BUCKETS_RATIO: readonly number[] = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2];

/**
 * The only label names a livepath metric may carry. Each has a small, scenario-bounded value set
 * (role, cdn|peer, place name, re-parent reason); a viewer id or chunk seq must never become a
 * label, because every distinct value is a new time series in Prometheus.
 */
export const BOUNDED_LABEL_NAMES: readonly string[] = ['role', 'path', 'region', 'reason'];

/** Where startMetricsServer serves the exposition (the Prometheus default path). */
export const METRICS_PATH = '/metrics';

/**
 * prom-client's default metrics include gauges named `*_total`, which `promtool check metrics`
 * rejects (the suffix promises a counter). Each only sums the same-named gauge without the suffix
 * over its `type` label, so dropping them loses nothing: use sum(nodejs_active_handles).
 */
export const MISNAMED_DEFAULT_METRICS: readonly string[] = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];
