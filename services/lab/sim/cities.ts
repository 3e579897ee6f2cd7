// Large audiences where people live: the world's most populous cities (scenarios/data/
// world-cities.csv, from GeoNames; its README names the source), each a cluster of viewers in
// proportion to its population.
import { readFileSync } from 'node:fs';
import type { Scenario } from '../../core/scenario/schema.js';
import { splitCsvLine } from '../../results/csv.js';
import { packageFile } from '../../runtime/package.js';
import { CliError } from '../commands/common.js';

export const WORLD_CITIES_CSV = packageFile('scenarios', 'data', 'world-cities.csv');

export interface City {
  name: string;
  country: string;
  lat: number;
  lon: number;
  population: number;
}

export function readWorldCities(file = WORLD_CITIES_CSV): City[] {
  const [header, ...rows] = readFileSync(file, 'utf8').trim().split('\n');
  if (header !== 'name,country,lat,lon,population')
    throw new CliError(`${file}: not a world-cities table (header ${header})`);
  return rows.map((row, i) => {
    const f = splitCsvLine(row) ?? [];
    const city = { name: f[0]!, country: f[1]!, lat: Number(f[2]), lon: Number(f[3]), population: Number(f[4]) };
    if (!(city.population > 0) || !Number.isFinite(city.lat) || !Number.isFinite(city.lon))
      throw new CliError(`${file} line ${i + 2}: lat, lon and population must be numbers (${row})`);
    return city;
  });
}

/**
 * The geo scenario with its viewer clusters replaced by the `count` most populous cities, each
 * weighted by its population (withAudience then sizes them). Its churn may not name clusters.
 */
export function withCities(scenario: Scenario, cities: readonly City[], count: number): Scenario {
  const geo = scenario.geo;
  if (!geo) throw new CliError(`--cities: scenario ${scenario.name} is a graph; use a geo scenario (world, metro)`);
  if (scenario.churn.some((e) => 'cluster' in e && e.cluster !== undefined))
    throw new CliError(`--cities: scenario ${scenario.name} joins viewers by cluster; its clusters cannot be replaced`);
  const used = new Set<string>();
  const clusters = cities.slice(0, count).map((c) => {
    const base = `${c.name}-${c.country}`
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '');
    let name = base || 'city';
    for (let k = 2; used.has(name); k++) name = `${base}-${k}`;
    used.add(name);
    return { name, lat: c.lat, lon: c.lon, count: c.population, radiusKm: geo.viewers.clusters[0]?.radiusKm ?? 30 };
  });
  return { ...scenario, geo: { ...geo, viewers: { ...geo.viewers, clusters } } };
}
