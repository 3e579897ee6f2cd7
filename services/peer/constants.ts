// Tunables of the viewer process (the policy's own are in core/viewer/constants.ts).

/** A probe without an answer after this long counts as unreachable. */
export const PROBE_TIMEOUT_MS = 2_000;

/**
 * Probes per candidate (the least RTT counts, filtering queueing noise). The connection is set
 * up before the first probe, so one is enough: a join storm of hundreds of viewers probing a
 * dozen candidates each must not load the machine into late timers and inflated RTTs.
 */
export const PROBES_PER_TARGET = 1;
