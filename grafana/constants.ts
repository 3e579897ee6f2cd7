// Tunables of the livepath dashboards: identities that links and provisioning rely on, and the
// defaults a lab run is watched with.

/** Stable dashboard uids: links, the Helm chart and bookmarks use them; never change them. */
export const OVERVIEW_UID = 'livepath-overview';
export const DRILLDOWN_UID = 'livepath-drilldown';

/** Tag shared by the livepath dashboards so each links to the other. */
export const DASHBOARD_TAG = 'livepath';

/** Name of the data source variable every panel's queries go through. */
export const DATASOURCE_VARIABLE = 'datasource';

/** A lab run lasts minutes and Prometheus scrapes every second: refresh often, look back briefly. */
export const DASHBOARD_REFRESH = '10s';
export const DASHBOARD_TIME_FROM = 'now-15m';

/** Percentiles shown for delays: the median viewer and the tail that decides stalls. */
export const DELAY_QUANTILES: readonly number[] = [0.5, 0.95];
/** Emulation error is judged by its tail: p99 is where a stalled process shows. */
export const EMULATION_ERROR_QUANTILES: readonly number[] = [0.5, 0.99];

/**
 * What `livepath dashboards check` substitutes for Grafana's interval macros when it runs the
 * panel queries as instant queries: 1m holds ≥4 samples even at a 15 s scrape interval.
 */
export const MACRO_SUBSTITUTIONS: Readonly<Record<string, string>> = {
  $__rate_interval: '1m',
  $__interval: '15s',
  $__range: '1h',
};
