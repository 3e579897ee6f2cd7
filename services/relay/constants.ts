// Tunables of the relay shared by origin, edge and peer.

/**
 * Chunks a relay keeps for children that resume from an older seq (after a reconnect or a
 * re-parent). 40 chunks of 250 ms cover 10 s, longer than any re-parent or playout buffer.
 */
export const KEEP_CHUNKS = 40;

/**
 * Fragments queued to one child before that child is dropped as too slow. A child that cannot
 * keep up must not hold memory or stall its siblings; it reconnects and resumes from its next
 * missing seq. 256 fragments of 16 KB = 4 MB, several chunks of slack.
 */
export const MAX_CHILD_QUEUE_FRAGMENTS = 256;

/**
 * Weight of the newest chunk in a node's smoothed delay, which it reports to probes: a few
 * chunks' memory follows a re-parent within a second without jumping on one late chunk.
 */
export const DELAY_EWMA_WEIGHT = 0.25;

/**
 * A relay with more children than this hands each copy to the transport a lead before it is due
 * (HANDOVER_LEAD_US) instead of at once: an edge's burst of 6 fragments × 40 children is ~20 ms
 * of CPU, and spreading it by due time leaves the CPU to the copies needed soonest. A peer's
 * 1–4 copies leave at once, keeping all the slack the lookahead gives its children.
 */
export const HOLD_MIN_CHILDREN = 8;

/** Reconnect back-off after a parent stream fails: first try fast, then back off to 1 s. */
export const RECONNECT_MIN_MS = 50;
export const RECONNECT_MAX_MS = 1_000;

/**
 * Verified (signature, message) pairs a process remembers, so its other virtual nodes receiving
 * the same fragment skip the Ed25519 verification: a few hundred fragments per second of stream
 * times a few seconds of skew between the copies that reach one process.
 */
export const VERIFIED_CACHE_ENTRIES = 4096;

/**
 * A fragment older than KEEP_CHUNKS + this many chunk-times is a replay: no honest relay still
 * holds it (it keeps KEEP_CHUNKS), and this many cover transit and a resuming child's backlog.
 */
export const REPLAY_SLACK_CHUNKS = 8;
