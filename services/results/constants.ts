// Tunables of the results contract: the rule that makes a chunk a stall, and how the reader
// sizes its tables and its messages.

/**
 * Playout delay: a viewer plays chunk k this long after it was produced. A chunk complete later
 * is a stall. 1 s is a low-latency live setting (LL-HLS/LL-DASH aim at 1–3 s end to end).
 */
export const PLAYOUT_DELAY_MS = 1_000;

/** Initial capacity of the growable typed columns of chunks.csv; doubles as rows arrive. */
export const CHUNK_TABLE_INITIAL_ROWS = 1 << 14;

/** Malformed-file messages list at most this many problems so the first one stays visible. */
export const MAX_REPORTED_ISSUES = 3;
