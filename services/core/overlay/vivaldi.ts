// Vivaldi network coordinates (Dabek et al., SIGCOMM 2004): each node has a 2-D position plus a
// "height" (its access-link latency); the distance between two coordinates predicts their RTT.
// The tracker updates them from every RTT a peer measures, so it can estimate the latency of pairs
// that were never probed. Sans-IO: deterministic given the samples.

export interface Coordinate {
  x: number;
  y: number;
  /** access latency, ms (always ≥ 0) */
  h: number;
  /** local error estimate in [0, 1] */
  error: number;
}

/** Tuning from the Vivaldi paper: cc for the error weight, ce for the position step. */
const CE = 0.25;
const CC = 0.25;
const MIN_HEIGHT_MS = 0.1;

export function newCoordinate(): Coordinate {
  return { x: 0, y: 0, h: MIN_HEIGHT_MS, error: 1 };
}

/** Predicted RTT between two coordinates (ms). */
export function predictRttMs(a: Coordinate, b: Coordinate): number {
  return Math.hypot(a.x - b.x, a.y - b.y) + a.h + b.h;
}

/**
 * Moves `self` after measuring `rttMs` to a node at `other`. `jitter` (in [0,1)) breaks the
 * symmetry of two nodes at the same point: pass a value from a seeded PRNG.
 */
export function updateCoordinate(self: Coordinate, other: Coordinate, rttMs: number, jitter: number): void {
  if (!(rttMs > 0)) return;
  const predicted = predictRttMs(self, other);
  const w = self.error / (self.error + other.error || 1);
  const relError = Math.abs(predicted - rttMs) / rttMs;
  self.error = Math.min(1, relError * CE * w + self.error * (1 - CE * w));
  const delta = CC * w;
  let dx = self.x - other.x;
  let dy = self.y - other.y;
  let dist = Math.hypot(dx, dy);
  if (dist < 1e-9) {
    const angle = jitter * 2 * Math.PI;
    dx = Math.cos(angle);
    dy = Math.sin(angle);
    dist = 1;
  }
  const force = delta * (rttMs - predicted);
  self.x += (dx / dist) * force;
  self.y += (dy / dist) * force;
  // Height absorbs the part of the error the plane cannot (access links): move it with the same sign.
  self.h = Math.max(MIN_HEIGHT_MS, self.h + force * ((self.h + other.h) / (dist + self.h + other.h)));
}
