// Tunables of a viewer's policy (services/core/viewer): its playout deadline, when it falls back
// to its CDN edge, how it probes and re-probes, how it retries a join and how often it reports.

/**
 * Playout delay: a viewer plays chunk k this long after it was produced. A chunk complete later
 * is a stall. 1 s is a low-latency live setting (LL-HLS/LL-DASH aim at 1–3 s end to end).
 */
export const PLAYOUT_DELAY_MS = 1_000;

/**
 * A chunk still missing this long before its playout deadline is fetched from the CDN edge:
 * enough for an edge fetch across a continent (≈ 2 × 150 ms + a chunk's serialization).
 */
export const FALLBACK_LEAD_MS = 450;

/** Edge fetches one viewer may have in flight; the rest wait their turn (see ViewerPolicy.deadlines). */
export const MAX_FALLBACKS_IN_FLIGHT = 2;

/** Probe rounds before a viewer joins: the first finds roots and a sample, the second the nearest. */
export const JOIN_PROBE_ROUNDS = 2;

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

/** How often a peer reports its delay to the tracker. */
export const REPORT_INTERVAL_MS = 2_000;

/** One parent-lost report per loss burst: the stream retries every few ms until the tracker reassigns. */
export const PARENT_LOST_REPORT_GAP_MS = 500;

/** Bytes of one proximity probe each way. */
export const PROBE_BYTES = 64;
