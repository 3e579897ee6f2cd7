// Public surface of the metrics package: what origin, edge, peer, tracker and the lab import.
export {
  createMetrics,
  startMetricsServer,
  METRIC_NAMES,
  type LivepathMetrics,
  type MetricsInit,
  type MetricsRole,
  type MetricsServer,
  type PathLabel,
  type ReparentReason,
  type RelayStats,
  type ScrapeSource,
} from './metrics.js';
export { MetricsListenError, MetricsPortInUseError } from './errors.js';
export { BOUNDED_LABEL_NAMES } from './constants.js';
