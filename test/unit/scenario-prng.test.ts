// The seeded PRNG behind every random choice in a scenario plan (services/core/prng.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng, PrngRangeError } from '../../services/core/prng.js';

const draw = (p: Prng, n: number) => Array.from({ length: n }, () => p.next());

test('equal seeds give equal sequences; different seeds differ', () => {
  assert.deepEqual(draw(new Prng(42), 20), draw(new Prng(42), 20));
  assert.notDeepEqual(draw(new Prng(42), 20), draw(new Prng(43), 20));
});

test('next() stays in [0, 1) and neighbouring seeds do not start alike', () => {
  for (const x of draw(new Prng(7), 1000)) assert.ok(x >= 0 && x < 1);
  // pure-rand's plain xoroshiro128plus(seed) starts with ~seed: seeds 1 and 2 would begin equal.
  const firsts = [1, 2, 3, 4].map((s) => new Prng(s).next());
  for (let i = 1; i < firsts.length; i++) assert.ok(Math.abs(firsts[i]! - firsts[0]!) > 1e-3, `${firsts}`);
});

test('int(lo, hi) includes both ends and nothing else', () => {
  const p = new Prng(1);
  const seen = new Set<number>();
  for (let i = 0; i < 500; i++) seen.add(p.int(-2, 2));
  assert.deepEqual([...seen].sort(), [-1, -2, 0, 1, 2].sort());
  assert.throws(() => p.int(3, 2), PrngRangeError);
  assert.throws(() => p.int(0.5, 2), PrngRangeError);
});

test('pick and shuffle are deterministic, shuffle is a permutation and leaves its input alone', () => {
  const items = Array.from({ length: 30 }, (_, i) => i);
  const a = new Prng(5).shuffle(items);
  assert.deepEqual(a, new Prng(5).shuffle(items));
  assert.notDeepEqual(a, items);
  assert.deepEqual(
    [...a].sort((x, y) => x - y),
    items,
  );
  assert.deepEqual(
    items,
    Array.from({ length: 30 }, (_, i) => i),
  );
  assert.equal(new Prng(5).pick(items), new Prng(5).pick(items));
  assert.throws(() => new Prng(5).pick([]), PrngRangeError);
});

test('derived streams are stable and independent per label', () => {
  assert.deepEqual(draw(Prng.derive(1, 'place:tokyo'), 5), draw(Prng.derive(1, 'place:tokyo'), 5));
  assert.notDeepEqual(draw(Prng.derive(1, 'place:tokyo'), 5), draw(Prng.derive(1, 'place:osaka'), 5));
  assert.notDeepEqual(draw(Prng.derive(1, 'churn'), 5), draw(Prng.derive(2, 'churn'), 5));
});

test('large and fractional seeds are accepted deterministically; non-finite ones are not', () => {
  assert.deepEqual(draw(new Prng(2 ** 40 + 3), 3), draw(new Prng(2 ** 40 + 3), 3));
  assert.notDeepEqual(draw(new Prng(2 ** 40 + 3), 3), draw(new Prng(3), 3));
  assert.deepEqual(draw(new Prng(0.5), 3), draw(new Prng(0.5), 3));
  assert.throws(() => new Prng(Number.NaN), PrngRangeError);
});
