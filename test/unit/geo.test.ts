// Great-circle distances, destination points and disc sampling (services/core/geo.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { destinationPoint, greatCircleKm, randomPointInDisc } from '../../services/core/geo.js';
import { EARTH_RADIUS_KM } from '../../services/core/constants.js';
import { Prng } from '../../services/core/prng.js';

const FRANKFURT = { lat: 50.1109, lon: 8.6821 };
const NEW_YORK = { lat: 40.7128, lon: -74.006 };
const SYDNEY = { lat: -33.8688, lon: 151.2093 };

const place = fc.record({
  lat: fc.double({ min: -90, max: 90, noNaN: true }),
  lon: fc.double({ min: -180, max: 180, noNaN: true }),
});

test('Frankfurt–New York is about 6200 km', () => {
  const km = greatCircleKm(FRANKFURT, NEW_YORK);
  assert.ok(Math.abs(km - 6200) < 60, `got ${km} km`);
});

test('Frankfurt–Sydney is about 16 500 km', () => {
  const km = greatCircleKm(FRANKFURT, SYDNEY);
  assert.ok(Math.abs(km - 16_500) < 150, `got ${km} km`);
});

test('antipodes are half the circumference apart, a place is 0 km from itself', () => {
  assert.ok(Math.abs(greatCircleKm({ lat: 0, lon: 0 }, { lat: 0, lon: 180 }) - Math.PI * EARTH_RADIUS_KM) < 1e-6);
  assert.ok(Math.abs(greatCircleKm({ lat: 90, lon: 0 }, { lat: -90, lon: 0 }) - Math.PI * EARTH_RADIUS_KM) < 1e-6);
  assert.equal(greatCircleKm(NEW_YORK, NEW_YORK), 0);
});

test('distance is a metric: symmetric, non-negative, triangle inequality', () => {
  fc.assert(
    fc.property(place, place, place, (a, b, c) => {
      const ab = greatCircleKm(a, b);
      assert.ok(ab >= 0);
      assert.ok(Math.abs(ab - greatCircleKm(b, a)) < 1e-9);
      // Haversine loses precision near antipodes (asin of √h with h ≈ 1): ~1e-4 km. A metre of
      // slack is 5 ns of latency, far below anything the testbed resolves.
      assert.ok(greatCircleKm(a, c) <= ab + greatCircleKm(b, c) + 1e-3);
    }),
    { numRuns: 300 },
  );
});

test('destinationPoint lands at the requested distance', () => {
  fc.assert(
    fc.property(
      fc.record({
        lat: fc.double({ min: -85, max: 85, noNaN: true }),
        lon: fc.double({ min: -180, max: 180, noNaN: true }),
      }),
      fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
      fc.double({ min: 0, max: 5000, noNaN: true }),
      (from, bearing, km) => {
        const to = destinationPoint(from, bearing, km);
        assert.ok(to.lon >= -180 && to.lon <= 180, `lon ${to.lon}`);
        assert.ok(Math.abs(greatCircleKm(from, to) - km) < 1e-6 * Math.max(1, km));
      },
    ),
    { numRuns: 300 },
  );
});

test('points sampled in a disc stay within its radius and are seed-deterministic', () => {
  const a = new Prng(9);
  const b = new Prng(9);
  for (let i = 0; i < 200; i++) {
    const p = randomPointInDisc(a, SYDNEY, 40);
    assert.ok(greatCircleKm(SYDNEY, p) <= 40 + 1e-9);
    assert.deepEqual(randomPointInDisc(b, SYDNEY, 40), p);
  }
});

test('disc sampling is uniform by area: about a quarter of points fall within half the radius', () => {
  const prng = new Prng(3);
  let inner = 0;
  const n = 4000;
  for (let i = 0; i < n; i++) if (greatCircleKm(NEW_YORK, randomPointInDisc(prng, NEW_YORK, 100)) <= 50) inner++;
  // Expected 0.25 (area ratio); sampling by radius instead of √radius would give 0.5.
  assert.ok(Math.abs(inner / n - 0.25) < 0.04, `inner share ${inner / n}`);
});
