// Geography on a spherical Earth: great-circle distance (haversine), the point at a distance and
// bearing, and uniform sampling of places in a disc around a city. Pure functions, no I/O.

import { EARTH_RADIUS_KM } from './constants.js';
import type { Prng } from './prng.js';

export interface LatLon {
  /** degrees, north positive, in [-90, 90] */
  lat: number;
  /** degrees, east positive, in [-180, 180] */
  lon: number;
}

const RAD_PER_DEG = Math.PI / 180;

/** Great-circle distance in km (haversine: numerically stable for short distances too). */
export function greatCircleKm(a: LatLon, b: LatLon): number {
  const phi1 = a.lat * RAD_PER_DEG;
  const phi2 = b.lat * RAD_PER_DEG;
  const dPhi = phi2 - phi1;
  const dLambda = (b.lon - a.lon) * RAD_PER_DEG;
  const h = Math.sin(dPhi / 2) ** 2 + Math.cos(phi1) * Math.cos(phi2) * Math.sin(dLambda / 2) ** 2;
  // Rounding can push h a hair outside [0, 1] for antipodal points; asin would return NaN.
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.sqrt(Math.min(1, Math.max(0, h))));
}

/** The point reached from `from` after `distanceKm` along the great circle with this bearing. */
export function destinationPoint(from: LatLon, bearingRad: number, distanceKm: number): LatLon {
  const delta = distanceKm / EARTH_RADIUS_KM;
  const phi1 = from.lat * RAD_PER_DEG;
  const lambda1 = from.lon * RAD_PER_DEG;
  const sinPhi2 = Math.sin(phi1) * Math.cos(delta) + Math.cos(phi1) * Math.sin(delta) * Math.cos(bearingRad);
  const phi2 = Math.asin(Math.min(1, Math.max(-1, sinPhi2)));
  const lambda2 =
    lambda1 +
    Math.atan2(
      Math.sin(bearingRad) * Math.sin(delta) * Math.cos(phi1),
      Math.cos(delta) - Math.sin(phi1) * Math.sin(phi2),
    );
  const lon = ((((lambda2 / RAD_PER_DEG + 540) % 360) + 360) % 360) - 180;
  return { lat: phi2 / RAD_PER_DEG, lon };
}

/**
 * A place uniformly distributed over the disc of radiusKm around center (by area: the distance is
 * R·√u, otherwise viewers would crowd the centre).
 */
export function randomPointInDisc(prng: Prng, center: LatLon, radiusKm: number): LatLon {
  const distanceKm = radiusKm * Math.sqrt(prng.next());
  const bearingRad = 2 * Math.PI * prng.next();
  return destinationPoint(center, bearingRad, distanceKm);
}
