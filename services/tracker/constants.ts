// Tunables of the tracker and its overlay planner.

/** Upload headroom: a peer takes children × bitrate × 1.25 ≤ uplink, leaving room for repairs and probes. */
export const UPLOAD_HEADROOM = 1.25;

/**
 * Children per peer at most, whatever its uplink: a sanity cap, not a tuning knob. A peer takes as
 * many children as its measured uplink carries (children × bitrate × headroom ≤ uplink); the
 * planner's delay model then decides how many are worth it (each child waits one release on its
 * parent's uplink per sibling ahead of it: 2 ms for a 12.5 KB frame at 50 Mbit/s, 15 ms for a whole
 * 94 KB chunk). A fixed 4 made world's trees 4–6 peer hops deep.
 */
export const MAX_FANOUT = 32;

/**
 * However small the audience, the roots may feed this many viewers directly: a CDN-byte budget of
 * 7.5 % of the 3 viewers present in the first second is 1 slot, and the whole first wave hung
 * below the first viewer wherever it was (world: Mumbai and Sydney viewers via São Paulo, chunk
 * delay +180 ms over the bound for the first 5 s of the run, p95 767 ms, 117 deadline fallbacks).
 * A few entry points cost little and the share takes over from 4 / 5 % = 80 viewers on. In a
 * replay with exact RTTs (`npm run bench replay`) world's tree at 1 s is 119/141 ms (p50/p95)
 * with 4 instead of 229/283 with 1; 6 gives 66/131 but would keep metro's 80 viewers at 7.5 %
 * root-fed, too much for 90 % offload once fast start is counted.
 */
export const MIN_ROOT_FED = 4;

/** Viewers the origin serves directly in p2p mode (one entry point per cluster is what it needs). */
export const ORIGIN_SLOTS = 8;

/** Viewers each edge serves directly in p2p mode (besides deadline fallbacks). */
export const EDGE_SLOTS = 1;

/**
 * Re-parent only when the model's sum of delays drops by more than this (ms) and this share of the
 * moved subtree's delays, and not within COOLDOWN_ROUNDS improvement rounds of the viewer's last
 * move. Moves are scored on the planner's own model, which measured RTTs pin down to a few %, so
 * the hysteresis only has to cover that error and the cost of a move: the subtree resubscribes
 * and its new parent sends the current chunk again (≤ 94 KB, ≤ 15 ms of a 50 Mbit/s uplink). With
 * the old 15 ms / 15 % / 5 rounds (when moves were judged on reported delays) a joiner stuck below
 * the wrong cluster waited 10 s, and world's first half ran 30–80 ms above its final tree.
 */
export const HYSTERESIS_MS = 5;
export const HYSTERESIS_RATIO = 0.05;
export const COOLDOWN_ROUNDS = 1;

/**
 * The tracker runs at this nice value: it is the control plane, and its decisions are not due to
 * the millisecond, while the relays beside it on a shared machine are. During the join storm it
 * takes half a core; at nice 0 that made short hops late (world p2p: chunk-hop error p99 0–8 ms
 * between runs, probes 30–90 ms; at nice 10, 0.00 ms and 10–18 ms in two runs). Raising one's own
 * nice value needs no privilege.
 */
export const TRACKER_NICE = 10;

/** Candidates a joining peer probes per round (two rounds). */
export const CANDIDATES_PER_ROUND = 6;

/**
 * How often the planner looks for better parents (a round costs ~4 ms of CPU at 120 viewers and
 * ~10 ms at 1 000), and how many moves a round may make.
 */
export const IMPROVE_INTERVAL_MS = 1_000;
export const IMPROVE_MAX_MOVES_SHARE = 0.1;

/** Moves a report carrying new RTTs may trigger at once (the periodic round does the rest). */
export const IMPROVE_ON_REPORT_MAX_MOVES = 2;

/**
 * Delivery reports (withhold, trickle) that ban a peer: one child's report moves that child only,
 * since a busy machine can make an honest parent late once; a second report means the parent.
 */
export const BAN_DELIVERY_STRIKES = 2;

/**
 * A peer that reported its own parent within this long is starved, not withholding: its
 * children's reports against it do not count (the tracker already moved it).
 */
export const STARVED_BY_PARENT_MS = 3_000;
