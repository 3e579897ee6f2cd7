// The wall clock in microseconds since the Unix epoch, with sub-millisecond resolution. Every
// process on one machine reads the same system clock, so timestamps compare across processes.
import { performance } from 'node:perf_hooks';
import type { Clock } from '../core/clock.js';

export const systemClock: Clock = {
  nowUs: () => Math.round((performance.timeOrigin + performance.now()) * 1000),
};
