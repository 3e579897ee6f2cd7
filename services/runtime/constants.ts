// Tunables of what every service process shares.

/** How often a service re-checks its readiness (the probes ask every few seconds: 5 s in the chart). */
export const READINESS_CHECK_MS = 1_000;

/**
 * A stream that has not moved for this long (plus two keyframe intervals: real video is cut at
 * keyframes) is not ready: longer than any pause of a healthy stream, and short enough that a
 * Service stops sending viewers to a node that lost its source within two probe periods.
 */
export const STREAM_STALL_MS = 5_000;

/**
 * How often a standalone tracker looks at the origin's stream again (one chunk from the live
 * edge), so that the clock it publishes follows an origin that restarted.
 */
export const STREAM_CLOCK_RESAMPLE_MS = 30_000;

/** A standalone tracker that could not reach the origin (not up or not streaming yet) tries again after this. */
export const STREAM_CLOCK_RETRY_MS = 1_000;

/** How often a standalone viewer host asks the tracker for the stream's clock until it knows it. */
export const STREAM_CLOCK_POLL_MS = 500;

/** Largest gRPC message a process takes: a real-video fragment is far below it, a whole chunk may not be. */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/** Clients ping an idle connection this often, so a parent that vanished is noticed within seconds. */
export const CLIENT_KEEPALIVE_MS = 10_000;
