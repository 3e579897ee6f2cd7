// The planner's cost per join and per improvement round, on synthetic audiences of world's shape
// (viewers in clusters around cities, latencies from the geo formula): CPU time the tracker spends
// per decision, at the 120 viewers the shipped scenarios have and at the 1 000 issue 18 will need.
import { performance } from 'node:perf_hooks';
import { greatCircleKm, randomPointInDisc, type LatLon } from '../services/core/geo.js';
import { hopModelOf } from '../services/core/overlay/model.js';
import { OverlayPlanner } from '../services/core/overlay/planner.js';
import { Prng } from '../services/core/prng.js';
import {
  CANDIDATES_PER_ROUND,
  COOLDOWN_ROUNDS,
  HYSTERESIS_MS,
  HYSTERESIS_RATIO,
  IMPROVE_MAX_MOVES_SHARE,
  MAX_FANOUT,
  UPLOAD_HEADROOM,
} from '../services/tracker/constants.js';

const CITIES: LatLon[] = [
  { lat: 40.71, lon: -74.01 },
  { lat: 48.86, lon: 2.35 },
  { lat: -23.55, lon: -46.63 },
  { lat: -33.87, lon: 151.21 },
  { lat: -26.2, lon: 28.05 },
  { lat: 19.08, lon: 72.88 },
];
const ORIGIN: LatLon = { lat: 50.11, lon: 8.68 };

export interface PlannerCost {
  viewers: number;
  /** µs of CPU per join: two candidate rounds, the observations and the attach */
  joinUs: { p50: number; p95: number };
  /** ms per periodic improvement round once everyone has joined */
  improveMs: number;
}

export function benchPlannerCost(viewers: number, seed = 1): PlannerCost {
  const prng = new Prng(seed);
  const place = new Map<string, LatLon>([['origin', ORIGIN]]);
  const oneWayMs = (a: string, b: string) =>
    (greatCircleKm(place.get(a)!, place.get(b)!) / 200) * 1.5 + (a === 'origin' ? 0.5 : 4) + (b === 'origin' ? 0.5 : 4);
  const planner = new OverlayPlanner(
    {
      model: hopModelOf({ chunkBytes: 93_750, fragmentBytes: 16_384, releaseUnitBytes: 11_719 }),
      bitrateBps: 3e6,
      headroom: UPLOAD_HEADROOM,
      maxFanout: MAX_FANOUT,
      hysteresisMs: HYSTERESIS_MS,
      hysteresisRatio: HYSTERESIS_RATIO,
      cooldownRounds: COOLDOWN_ROUNDS,
      candidatesPerRound: CANDIDATES_PER_ROUND,
      rootShare: 0.075,
    },
    new Prng(seed),
  );
  planner.addRoot('origin', 8, 10e9, 1.5);
  const joins: number[] = [];
  for (let i = 0; i < viewers; i++) {
    const id = `v${i}`;
    place.set(id, randomPointInDisc(prng, CITIES[i % CITIES.length]!, 40));
    const t0 = performance.now();
    planner.register(id, 50e6, 100e6);
    for (let round = 0; round < 2; round++) {
      const candidates = planner.candidatesFor(id);
      planner.observe(
        id,
        candidates.map((c) => ({ nodeId: c, rttMs: 2 * oneWayMs(id, c), delayMs: 0 })),
      );
    }
    planner.join(id);
    joins.push((performance.now() - t0) * 1000);
  }
  joins.sort((a, b) => a - b);
  // Past the joins' cooldown, so that every viewer may move.
  const maxMoves = Math.max(1, Math.ceil(viewers * IMPROVE_MAX_MOVES_SHARE));
  for (let r = 0; r <= COOLDOWN_ROUNDS; r++) planner.improve(maxMoves);
  const t0 = performance.now();
  const rounds = 5;
  for (let r = 0; r < rounds; r++) planner.improve(maxMoves);
  return {
    viewers,
    joinUs: { p50: joins[Math.floor(joins.length / 2)]!, p95: joins[Math.floor(joins.length * 0.95)]! },
    improveMs: (performance.now() - t0) / rounds,
  };
}
