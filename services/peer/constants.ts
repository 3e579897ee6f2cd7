// Tunables of the viewer process (the policy's own are in core/viewer/constants.ts).

/** A probe without an answer after this long counts as unreachable. */
export const PROBE_TIMEOUT_MS = 2_000;

/**
 * Probes per candidate (the least RTT counts, filtering queueing noise). The connection is set
 * up before the first probe, so one is enough: a join storm of hundreds of viewers probing a
 * dozen candidates each must not load the machine into late timers and inflated RTTs.
 */
export const PROBES_PER_TARGET = 1;

/**
 * Chunks a peer parent may make a viewer fetch from its CDN edge (deadline fallbacks) before the
 * viewer reports it to the tracker as withholding or trickling and asks for another parent. One
 * late chunk is noise (a busy machine); three in a row under one parent is that parent.
 */
export const LATE_CHUNKS_TO_REPORT = 3;

/** A parent that sent no fragment for this long is withholding; one that did is trickling. */
export const WITHHOLD_SILENCE_MS = 1_000;
