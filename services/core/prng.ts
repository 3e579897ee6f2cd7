// Seeded pseudo-random numbers for services/core (which never calls Math.random): a thin wrapper
// over pure-rand's xoroshiro128+ with deterministic seeding, so the same seed gives the same
// topology and schedule in every process and on every run.

import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/** Thrown when a caller asks for something a random draw cannot give (empty pick, bad range). */
export class PrngRangeError extends Error {
  override readonly name = 'PrngRangeError';
}

// 32-bit mixers: pure-rand's xoroshiro128plus(seed) starts from a state whose first output is
// just ~seed, so nearby seeds (1, 2, 3) would begin with nearly equal numbers. Expanding the seed
// through splitmix32 gives a well-spread 128-bit state instead.
function splitmix32(state: number): [next: number, out: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) | 0];
}

/** FNV-1a over the label's UTF-16 units: cheap and stable, enough to separate named streams. */
function hashLabel(label: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) | 0;
  for (let i = 0; i < label.length; i++) {
    h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  }
  return h | 0;
}

/** Folds any finite number (also > 2^32 or fractional) into 32 bits deterministically. */
function foldSeed(seed: number): number {
  if (!Number.isFinite(seed)) throw new PrngRangeError(`seed must be a finite number (got ${seed})`);
  if (Number.isSafeInteger(seed)) {
    const lo = seed % 0x1_0000_0000;
    const hi = Math.floor(seed / 0x1_0000_0000);
    return (lo ^ Math.imul(hi, 0x9e3779b1)) | 0;
  }
  return hashLabel(String(seed), 0);
}

export class Prng {
  readonly #rng: RandomGenerator;

  /** A generator seeded from a number; equal seeds give equal sequences. */
  constructor(seed: number) {
    let state = foldSeed(seed);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(state);
      state = next;
      words.push(out);
    }
    // xoroshiro must not start from the all-zero state (it would output zeros forever).
    if (!words.some((w) => w !== 0)) words[0] = 1;
    this.#rng = xoroshiro128plusFromState(words);
  }

  /**
   * An independent stream for one purpose (e.g. "place:tokyo", "churn"): adding draws for one
   * purpose then never shifts the numbers another purpose sees.
   */
  static derive(seed: number, label: string): Prng {
    return new Prng(hashLabel(label, foldSeed(seed)));
  }

  /** Uniform in [0, 1). */
  next(): number {
    return uniformFloat64(this.#rng);
  }

  /** Uniform integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || hi < lo) {
      throw new PrngRangeError(`int(lo, hi) needs integers with lo ≤ hi (got ${lo}, ${hi})`);
    }
    return uniformInt(this.#rng, lo, hi);
  }

  /** One element chosen uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new PrngRangeError('pick() needs at least one item');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** A uniformly shuffled copy (Fisher–Yates); the input is left untouched. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }
}
