// Tunables of the simulator: what it assumes where the emulation has real processes.

/**
 * One-way time of a control message between a viewer and the tracker (join, candidates, report,
 * leave, assignment). The emulation runs the tracker on loopback, outside the emulated links: a
 * gRPC call there takes about a millisecond.
 */
export const CONTROL_LATENCY_US = 1_000;

/**
 * Above this many viewers a run aggregates: only the last release unit of each chunk is simulated
 * (the one that decides the chunk's delay; capacity headroom keeps a parent's uplink idle between
 * releases, so earlier units do not queue it), and chunks.csv / events.csv keep a sample of viewers.
 */
export const AGGREGATE_ABOVE_VIEWERS = 5_000;

/** Viewers whose every chunk goes to chunks.csv in an aggregated run (a seeded uniform sample). */
export const SAMPLED_VIEWERS = 2_000;

/**
 * Above this many viewers a simulated run is not graded against a reference tree: its local
 * search costs minutes at 10^3 viewers and grows faster than n².
 */
export const GRADE_MAX_VIEWERS = 500;
