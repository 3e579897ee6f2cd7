// Tunables of viewers.

/**
 * A chunk still missing this long before its playout deadline is fetched from the CDN edge:
 * enough for an edge fetch across a continent (≈ 2 × 150 ms + a chunk's serialization).
 */
export const FALLBACK_LEAD_MS = 450;

/** How often the deadline check runs over the viewers of a process. */
export const DEADLINE_CHECK_MS = 50;

/** How often a peer reports its delay to the tracker. */
export const REPORT_INTERVAL_MS = 2_000;

/** A probe without an answer after this long counts as unreachable. */
export const PROBE_TIMEOUT_MS = 2_000;

/** Edge fetches one viewer may have in flight; the rest wait their turn (see checkDeadlines). */
export const MAX_FALLBACKS_IN_FLIGHT = 2;

/**
 * Probes per candidate (the least RTT counts, filtering queueing noise). The connection is set
 * up before the first probe, so one is enough: a join storm of hundreds of viewers probing a
 * dozen candidates each must not load the machine into late timers and inflated RTTs.
 */
export const PROBES_PER_TARGET = 1;

/**
 * After its first assignment a peer probes the candidates the tracker then suggests, and again
 * every few seconds: peers that joined at the same moment could not probe each other.
 */
export const REPROBE_FIRST_MS = 500;
export const REPROBE_INTERVAL_MS = 15_000;

/**
 * A Join the tracker did not take (not up yet: pods start in any order; or restarting) is tried
 * again after this long, doubling up to the max: a late tracker is found within seconds, and a
 * hundred viewers waiting for it cost it a few calls per second.
 */
export const JOIN_RETRY_MIN_MS = 500;
export const JOIN_RETRY_MAX_MS = 5_000;
