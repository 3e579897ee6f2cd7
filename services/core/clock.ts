// Time as the core and every service take it: injected, never read from the system here. The
// system clock is runtime/clock.ts; tests and the simulator pass virtual ones.

export interface Clock {
  /** microseconds since the Unix epoch (or since a virtual origin), sub-millisecond resolution */
  nowUs(): number;
}
