// Tunables of the user-space link emulator.

/**
 * A held message is released when its intended time is at most this close in the future.
 * Node timers have 1 ms granularity and fire late, never early; releasing a little early when a
 * timer fires anyway trades a bounded negative error for fewer re-arms (and less lateness).
 */
export const EARLY_RELEASE_US = 250;

/**
 * Timers are armed this much before the intended time: a setTimeout fires 0–1 ms after its
 * millisecond deadline (libuv's loop clock has 1 ms resolution). Anything that fires too early
 * is re-armed; nothing spins on setImmediate, which would burn the CPU the emulation needs.
 */
export const TIMER_LEAD_US = 250;

/**
 * A message is handed to the transport this long before it is due at its receiver, not as soon
 * as it is ready: a relay's copies for far children then leave when they are needed and do not
 * take the CPU (two cores here) from copies due sooner. Loopback takes ~1 ms; the rest is room
 * for a receiver that is busy or descheduled (scavenges of 10-30 ms were measured).
 */
export const HANDOVER_LEAD_US = 25_000;
