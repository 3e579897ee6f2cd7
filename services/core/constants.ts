// Tunables of services/core: scenario defaults, physical constants and sanity limits.
// Every value says why it is what it is; other core modules append their own sections below.

// ---- physics -------------------------------------------------------------------------------

/** Mean Earth radius (IUGG), the usual sphere for great-circle distances. */
export const EARTH_RADIUS_KM = 6371.0088;

/**
 * Light in fibre covers ~200 km per ms (refractive index ≈ 1.47); the standard rule of thumb for
 * one-way fibre latency.
 */
export const DEFAULT_FIBER_KM_PER_MS = 200;

/** Speed of light in vacuum: no scenario may claim a faster medium. */
export const MAX_FIBER_KM_PER_MS = 299.792458;

/**
 * Real routes are longer than the great circle (cable paths, peering detours); measured inflation
 * of Internet paths over the geodesic is typically 1.3–2, so 1.5 is a middle value.
 */
export const DEFAULT_PATH_INFLATION = 1.5;

// ---- access latency (one-way, added at each end of a geo path) -----------------------------

/** Data-centre hosts sit next to their backbone router: sub-millisecond. */
export const DEFAULT_ORIGIN_ACCESS_MS = 0.5;
export const DEFAULT_EDGE_ACCESS_MS = 0.5;
/** Home broadband / mobile last mile: a few ms one-way for cable/fibre/5G. */
export const DEFAULT_PEER_ACCESS_MS = 4;
/** A broadcaster is usually a studio or contribution link close to the origin. */
export const DEFAULT_BROADCASTER_ACCESS_MS = 1;

// ---- bandwidth ------------------------------------------------------------------------------

/** "Unconstrained": 10 Gbit/s, far above any single stream, so it never is the bottleneck. */
export const UNCONSTRAINED_BPS = 10e9;
/** Typical fixed-broadband viewer: asymmetric, uplink much smaller than downlink. */
export const DEFAULT_VIEWER_UPLINK_BPS = 20e6;
export const DEFAULT_VIEWER_DOWNLINK_BPS = 100e6;

// ---- stream ---------------------------------------------------------------------------------

/**
 * Cut-through fragment size: small enough that a relay forwards after a few ms at residential
 * rates (16 KiB at 50 Mbit/s ≈ 2.6 ms per hop), large enough that the per-message cost of
 * grpc-js stays affordable: 4 KiB fragments quadrupled the messages of a 120-viewer run and
 * pushed a 2-core machine into late timers.
 */
export const DEFAULT_FRAGMENT_BYTES = 16_384;
/**
 * How the broadcaster releases a chunk's bytes unless the scenario says otherwise: frame-paced
 * (`progressive`), as live encoders and low-latency delivery (CMAF chunks, LL-HLS parts, WebRTC)
 * do; `segment` (the whole chunk at its end, HLS-style) is kept for comparison.
 */
export const DEFAULT_PRODUCTION = 'progressive';
/** Frames per second of a frame-paced broadcast: the common rate of live video. */
export const DEFAULT_FRAME_RATE = 30;
/** Protobuf + HTTP/2 framing per fragment, counted in emulated serialization. */
export const FRAGMENT_OVERHEAD_BYTES = 64;
/** Every chunk starts with a keyframe unless the scenario says otherwise (simplest to join). */
export const DEFAULT_KEYFRAME_INTERVAL_CHUNKS = 1;

// ---- scenario -------------------------------------------------------------------------------

/** Same default seed everywhere, so a scenario without `seed:` is still reproducible. */
export const DEFAULT_SEED = 1;
/** A metro area: viewers of a cluster spread over a city-sized disc unless told otherwise. */
export const DEFAULT_CLUSTER_RADIUS_KM = 30;
/**
 * Upper limit on viewers per geo cluster: the simulator targets 10^5–10^6 viewers in total; more
 * than this in one cluster is almost certainly a typo (an extra zero) rather than an experiment.
 */
export const MAX_VIEWERS_PER_CLUSTER = 1_000_000;
/** Default ids of the geo broadcaster and origin when the scenario does not name them. */
export const DEFAULT_BROADCASTER_ID = 'broadcaster';
export const DEFAULT_ORIGIN_ID = 'origin';
/** Region label of graph nodes without an explicit `region`. */
export const DEFAULT_GRAPH_REGION = 'graph';
/**
 * Join and leave times are rounded to whole milliseconds: finer than any emulated delay matters
 * for churn, and readable in plans and reports.
 */
export const CHURN_TIME_RESOLUTION_S = 0.001;

// ---- shortest paths --------------------------------------------------------------------------

/**
 * Relative tolerance under which two path latencies count as equal, so float rounding
 * (5 + 10 vs 10 + 5 ms) does not decide between equal routes; the wider route wins instead.
 */
export const LATENCY_TIE_RELATIVE_EPSILON = 1e-9;
