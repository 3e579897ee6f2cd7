// Tunables of the run report: how far each chart is downsampled and how it is drawn. The report
// must stay one small offline file even for 10^6 chunk rows, so every chart is aggregated first.

/** Points per CDF line: 500 quantiles draw a smooth curve at 1280 px; more only grows the file. */
export const CDF_POINTS = 500;

/**
 * Most points per delay-over-time line. One point per chunk seq is kept up to this many seqs;
 * longer runs are bucketed into groups of consecutive seqs so a 1-hour run is still ~600 points.
 */
export const TIME_SERIES_MAX_POINTS = 600;

/** Churn rules drawn per chart; beyond this they merge into a grey band and add no information. */
export const MAX_EVENT_RULES = 400;

/** Viewers shown as points in the per-viewer stretch chart; a fixed stride keeps the spread. */
export const MAX_STRETCH_VIEWERS = 2000;

/** Overlay links and nodes drawn; past this a map is ink, so viewers are thinned by a fixed stride. */
export const MAX_OVERLAY_VIEWERS = 1500;

/** Node labels are readable in the graph drawing only for small graphs. */
export const MAX_LABELLED_GRAPH_NODES = 60;

/** Distinct regions that still get their own colour; past this a legend no longer fits. */
export const MAX_COLOURED_REGIONS = 12;

/**
 * hdr-histogram resolution for delay quantiles: delays are recorded in µs with 3 significant
 * digits, i.e. 0.1 % error, far below what a 1280-px chart can show.
 */
export const DELAY_HISTOGRAM_SIGNIFICANT_DIGITS = 3;

/**
 * events.csv `atUs` may be on the broadcaster clock (µs since the Unix epoch, like producedAtUs)
 * or relative to the start of the run. Below this value (≈ 11.6 days after 1970) a timestamp
 * cannot be an epoch time, so it is read as µs since the run started.
 */
export const EPOCH_CLOCK_THRESHOLD_US = 1e12;

/** Chart sizes in px, sized for a 1280-px-wide page with margins. */
export const CHART_WIDTH_PX = 1040;
export const CHART_HEIGHT_PX = 320;
export const MAP_HEIGHT_PX = 520;

/** Colours shared by every chart so a path or role reads the same everywhere (Tableau 10). */
export const PATH_COLOURS: Record<string, string> = {
  'cdn mode · CDN path': '#4c78a8',
  'p2p mode · peer path': '#f58518',
  'p2p mode · CDN path': '#72b7b2',
  'cdn mode · peer path': '#e45756',
  'bound (physical)': '#333333',
};
export const ROLE_COLOURS: Record<string, string> = {
  broadcaster: '#e45756',
  origin: '#b279a2',
  edge: '#4c78a8',
  viewer: '#f58518',
};
export const EVENT_COLOURS: Record<string, string> = {
  join: '#54a24b',
  leave: '#9d755d',
  kill: '#e45756',
};
