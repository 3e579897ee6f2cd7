// Tunables of the results contract: the rule that makes a chunk a stall, and how the reader
// sizes its tables and its messages.

/** The playout deadline is the viewer policy's (a chunk complete later is a stall). */
export { PLAYOUT_DELAY_MS } from '../core/viewer/constants.js';

/** Initial capacity of the growable typed columns of chunks.csv; doubles as rows arrive. */
export const CHUNK_TABLE_INITIAL_ROWS = 1 << 14;

/** Malformed-file messages list at most this many problems so the first one stays visible. */
export const MAX_REPORTED_ISSUES = 3;
