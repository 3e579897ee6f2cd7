// Tunables of the lab's orchestration.

/**
 * Virtual viewers per `livepath peers` process on the local backend. The machine has 2 cores:
 * a few processes with many viewers each keep timer lateness low, where one process per viewer
 * would make dozens of event loops compete for them (the machine's guide reports ~100 ms p99
 * timer lateness when dozens of processes start at once).
 */
export const DEFAULT_VIEWERS_PER_HOST = 40;

/** Lead time between "everyone is ready" and chunk 0, so every process has armed its timers. */
export const START_LEAD_MS = 1_000;

/** After the last chunk is produced, wait this long plus the largest bound for it to arrive. */
export const DRAIN_GRACE_MS = 1_500;
