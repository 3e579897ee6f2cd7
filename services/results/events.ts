// events.csv: what happened to the viewers, in time order — joins, leaves, kills, re-parents, CDN
// fallbacks, and the diagnostics a peer-path viewer logs (what it probed, its first assignment, a
// lost parent, the CDN edge it played from until then). The columns, the kinds, and the `detail` formats that are read back live here.
import { finiteField, readCsvRows, RowProblem, type CsvField } from './csv.js';

export const EVENT_COLUMNS = ['atUs', 'kind', 'viewer', 'detail'] as const;

export const EVENT_KINDS = [
  'join',
  'leave',
  'kill',
  'reparent',
  'fallback',
  'stall',
  'probed',
  'assigned',
  'parent-lost',
  'round',
  'join-retry',
  'fast-start',
  'rejected',
  'adversary',
  'fault',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface EventRow {
  atUs: number;
  kind: EventKind;
  viewer: string;
  detail: string;
}

/** The fields of a row, in EVENT_COLUMNS order. */
export function eventRow(e: EventRow): CsvField[] {
  return [e.atUs, e.kind, e.viewer, e.detail];
}

/** A row from its fields in EVENT_COLUMNS order; throws a RowProblem naming the bad field. */
export function parseEventRow(f: readonly string[]): EventRow {
  const kind = f[1]! as EventKind;
  if (!EVENT_KINDS.includes(kind)) {
    throw new RowProblem(`kind must be one of ${EVENT_KINDS.join('|')} (${JSON.stringify(f[1])})`);
  }
  return { atUs: finiteField('atUs', f[0]!), kind, viewer: f[2]!, detail: f[3]! };
}

/** Streams an events CSV into rows (events are few: one per join/leave/kill/re-parent/stall). */
export function readEventsCsv(file: string): Promise<EventRow[]> {
  return readCsvRows(file, EVENT_COLUMNS, parseEventRow);
}

// ---- details -------------------------------------------------------------------------------

/** A re-parent: "<from>><to> <reason>" (from is empty when the viewer had no parent). */
export interface Reparent {
  from: string;
  to: string;
  reason: string;
}

export function reparentDetail(r: Reparent): string {
  return `${r.from}>${r.to} ${r.reason}`;
}

export function parseReparentDetail(detail: string): Reparent {
  const [move = '', reason = ''] = detail.split(' ');
  const [from = '', to = ''] = move.split('>');
  return { from, to, reason };
}

/** A first assignment: "<parent> expected <ms> ms". */
export function assignedDetail(parent: string, expectedDelayMs: number): string {
  return `${parent} expected ${expectedDelayMs.toFixed(1)} ms`;
}

export function parseAssignedDetail(detail: string): { parent: string } {
  return { parent: detail.split(' ')[0]! };
}
