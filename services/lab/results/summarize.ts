// Turns the raw per-process files of one mode's run into chunks.csv, events.csv and
// summary.json: delay, bound, stretch and excess distributions by path, losses, offload and the
// emulator's own error. Streams the CSVs: a large run has millions of rows.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Recorder } from '../../core/stats.js';
import type { Mode, RunPlan } from '../../core/types.js';
import { CHUNK_COLUMNS, chunkRow, isStall, streamChunksCsv } from '../../results/chunks.js';
import { CsvAppender, streamCsv, type StreamCsvOptions } from '../../results/csv.js';
import type { MalformedResultsFileError } from '../../results/errors.js';
import {
  EVENT_COLUMNS,
  parseAssignedDetail,
  parseEventRow,
  parseReparentDetail,
  type EventRow,
  eventRow,
} from '../../results/events.js';
import { readJsonFile, writeJsonFile } from '../../results/json.js';
import { RESULTS_FILE } from '../../results/layout.js';
import { overlaySchema, type Overlay } from '../../results/overlay.js';
import { BOUND_SLACK_MS } from '../../results/fragments.js';
import {
  fragmentsFileSchema,
  INGEST_CSV,
  INGEST_JSON,
  linkemuFileSchema,
  parseProximityRow,
  PROXIMITY_COLUMNS,
  RAW_SUFFIX,
} from '../../results/raw.js';
import { ingestEndSchema, type Integrity, summarySchema, type Summary } from '../../results/summary.js';
import type { RawRunInfo } from '../backends/index.js';
import { gradeOverlay, plannerGap } from './reference.js';

const Q = (resolution: number) => new Recorder(resolution);

/**
 * A malformed row of a raw file is skipped (the file of a process killed mid-write can end in half
 * a row), and said once per file: what came before it is kept.
 */
function skipped(file: string): (error: MalformedResultsFileError) => void {
  let rows = 0;
  return (error) => {
    if (rows++ === 0) process.stderr.write(`livepath: skipping malformed rows of raw/${file} (${error.message})\n`);
  };
}

/** Merges `rawDir/*.chunks.csv` into `outDir/chunks.csv` and computes the summary. */
export async function summarize(rawDir: string, outDir: string, info: RawRunInfo): Promise<Summary> {
  const { plan } = info;
  const delay = { cdn: Q(0.001), peer: Q(0.001), all: Q(0.001) };
  const stretch = { cdn: Q(0.0001), peer: Q(0.0001), all: Q(0.0001) };
  const excess = Q(0.001);
  const bound = Q(0.001);
  const joinTime = Q(0.001);
  const bytes = { cdn: 0, peer: 0 };
  const got = new Map<string, Set<number>>();
  const firstAt = new Map<string, number>();
  const out = new CsvAppender(join(outDir, RESULTS_FILE.chunks), CHUNK_COLUMNS);
  const files = existsSync(rawDir) ? readdirSync(rawDir).sort() : [];
  let rows = 0;
  let late = 0;
  let chunksBelowBound = 0;
  for (const f of files.filter((f) => f.endsWith(RAW_SUFFIX.chunks))) {
    await streamChunksCsv(
      join(rawDir, f),
      (r) => {
        let set = got.get(r.viewer);
        if (!set) {
          set = new Set();
          got.set(r.viewer, set);
        }
        if (set.has(r.seq)) return;
        set.add(r.seq);
        if (!firstAt.has(r.viewer)) firstAt.set(r.viewer, r.receivedAtUs);
        out.row(chunkRow(r));
        rows++;
        const d = r.delayMs;
        const b = r.boundMs;
        delay[r.path].record(d);
        delay.all.record(d);
        stretch[r.path].record(d / b);
        stretch.all.record(d / b);
        excess.record(d - b);
        bound.record(b);
        if (d < b - BOUND_SLACK_MS) chunksBelowBound++;
        if (isStall(d)) late++;
        bytes[r.path] += plan.stream.chunkBytes;
      },
      { onMalformedRow: skipped(f) },
    );
  }
  await out.close();

  // A chunk is lost for a viewer when it was produced while the viewer was present (from the
  // live edge it joined at) and never completed there.
  const chunkUs = plan.stream.chunkDurationUs;
  const lastSeq = info.chunksProduced - 1;
  let lost = 0;
  for (const v of plan.viewers) {
    if (info.recordedViewers && !info.recordedViewers.has(v.id)) continue;
    const set = got.get(v.id);
    const joinSeq = Math.max(0, Math.ceil((v.joinAtS * 1e6) / chunkUs));
    const first = set && set.size > 0 ? Math.min(...set) : joinSeq;
    const last = v.leaveAtS !== undefined ? Math.min(lastSeq, Math.floor((v.leaveAtS * 1e6) / chunkUs) - 2) : lastSeq;
    for (let s = first; s <= last; s++) if (!set?.has(s)) lost++;
    const joinedUs = info.startUs + v.joinAtS * 1e6;
    const fa = firstAt.get(v.id);
    if (fa !== undefined) joinTime.record((fa - joinedUs) / 1000);
  }

  const errors = Q(0.001);
  const lateness = Q(0.001);
  const probeErrors = Q(0.001);
  let linkShaping = 'linkemu';
  const cpuSeconds: Record<string, number> = {};
  let integrity: Integrity | undefined;
  const positionWait = new Map<number, Recorder>();
  for (const f of files.filter((f) => f.endsWith(RAW_SUFFIX.linkemu))) {
    const j = await readJsonFile(join(rawDir, f), linkemuFileSchema);
    linkShaping = j.mechanism;
    errors.merge(j.errorMs);
    if (j.latenessMs) lateness.merge(j.latenessMs);
    if (j.probeErrorMs) probeErrors.merge(j.probeErrorMs);
    for (const [position, encoded] of Object.entries(j.positionWaitMs ?? {})) {
      let r = positionWait.get(Number(position));
      if (!r) {
        r = Q(0.001);
        positionWait.set(Number(position), r);
      }
      r.merge(encoded);
    }
    if (j.cpuSeconds !== undefined) cpuSeconds[j.proc] = Math.round(j.cpuSeconds * 100) / 100;
    if (j.integrity) integrity = addIntegrity(integrity, j.integrity);
  }
  const fragmentDelay = { cdn: Q(0.001), peer: Q(0.001), all: Q(0.001) };
  let fragmentsBelowBound = 0;
  for (const f of files.filter((f) => f.endsWith(RAW_SUFFIX.fragments))) {
    const j = await readJsonFile(join(rawDir, f), fragmentsFileSchema);
    fragmentDelay.cdn.merge(j.delayMs.cdn);
    fragmentDelay.peer.merge(j.delayMs.peer);
    fragmentDelay.all.merge(j.delayMs.all);
    fragmentsBelowBound += j.belowBound;
  }
  const events = await mergeEvents(rawDir, files, outDir, skipped);
  const overlay = overlayOf(plan, info.mode, events);
  writeJsonFile(join(outDir, RESULTS_FILE.overlay), overlaySchema, overlay);
  const delayAll = delay.all.summary();
  const reference =
    info.mode === 'p2p' && rows > 0 && !info.recordedViewers && info.grade !== false
      ? gradeOverlay(
          plan,
          new Map([...got].map(([viewer, seqs]) => [viewer, seqs.size])),
          new Map(overlay.parents.map((p) => [p.viewer, p.parent])),
        )
      : undefined;
  const gap = reference && plannerGap(delayAll, reference.delayMs);
  const ingest = await readIngest(rawDir, files);

  const total = bytes.cdn + bytes.peer;
  const summary: Summary = {
    scenario: plan.scenarioName,
    seed: plan.seed,
    mode: info.mode,
    backend: info.backend,
    linkShaping,
    viewers: plan.viewers.length,
    chunks: rows,
    lostChunks: lost,
    production: {
      mode: plan.stream.production,
      releasesPerChunk: plan.stream.releasesPerChunk,
      releaseUnitBytes: plan.stream.releaseUnitBytes,
    },
    delayMs: { cdn: delay.cdn.summary(), peer: delay.peer.summary(), all: delayAll },
    boundMs: bound.summary(),
    fragmentDelayMs: {
      cdn: fragmentDelay.cdn.summary(),
      peer: fragmentDelay.peer.summary(),
      all: fragmentDelay.all.summary(),
    },
    belowBound: { chunks: chunksBelowBound, fragments: fragmentsBelowBound },
    positionWaitMs: [...positionWait]
      .sort((a, b) => a[0] - b[0])
      .map(([position, r]) => ({ position, ...r.summary() })),
    stretch: { cdn: stretch.cdn.summary(), peer: stretch.peer.summary(), all: stretch.all.summary() },
    excessMs: excess.summary(),
    offload: total > 0 ? round4(bytes.peer / total) : 0,
    emulationErrorMs: errors.summary(),
    probeErrorMs: probeErrors.summary(),
    timerLatenessMs: lateness.summary(),
    joinTimeMs: joinTime.summary(),
    stalls: late + lost,
    reparents: events.filter((e) => e.kind === 'reparent').length,
    lateChunks: events.filter((e) => e.kind === 'fallback').length,
    ...(reference && { reference }),
    ...(gap && { plannerGap: gap }),
    ...(await proximityAccuracy(rawDir, files, plan, skipped)),
    cpuSeconds,
    ...(integrity && { integrity }),
    ...ingest,
  };
  Object.assign(summary, info.extra);
  writeJsonFile(join(outDir, RESULTS_FILE.summary), summarySchema, summary);
  return summary;
}

function addIntegrity(a: Integrity | undefined, b: Integrity): Integrity {
  if (!a) return { ...b, rejected: { ...b.rejected } };
  const rejected = { ...a.rejected };
  for (const [reason, n] of Object.entries(b.rejected)) rejected[reason] = (rejected[reason] ?? 0) + n;
  const x = a.adversaries;
  const y = b.adversaries;
  return {
    checked: a.checked + b.checked,
    verifications: a.verifications + b.verifications,
    verifyCpuSeconds: a.verifyCpuSeconds + b.verifyCpuSeconds,
    rejected,
    ...((x || y) && {
      adversaries: {
        tampered: (x?.tampered ?? 0) + (y?.tampered ?? 0),
        replayed: (x?.replayed ?? 0) + (y?.replayed ?? 0),
        withheld: (x?.withheld ?? 0) + (y?.withheld ?? 0),
        trickled: (x?.trickled ?? 0) + (y?.trickled ?? 0),
      },
    }),
  };
}

/** The origin's ingest samples (real video only): column ingestDelayMs of origin.ingest.csv. */
async function readIngest(rawDir: string, files: string[]): Promise<Pick<Summary, 'ingestDelayMs' | 'ingest'>> {
  const out: Pick<Summary, 'ingestDelayMs' | 'ingest'> = {};
  if (files.includes(INGEST_CSV)) {
    const r = Q(0.001);
    await streamCsv(join(rawDir, INGEST_CSV), ['ingestDelayMs'], (f) => r.record(Number(f[0])));
    out.ingestDelayMs = r.summary();
  }
  if (files.includes(INGEST_JSON)) out.ingest = await readJsonFile(join(rawDir, INGEST_JSON), ingestEndSchema);
  return out;
}

/**
 * The overlay at the end of the run: each viewer's parent (its edge on the CDN path; on the peer
 * path, its last assignment) and every re-parent.
 */
function overlayOf(plan: RunPlan, mode: Mode, events: EventRow[]): Overlay {
  const parent = new Map<string, string>(plan.viewers.map((v) => [v.id, v.edgeId]));
  const changes: Overlay['changes'] = [];
  if (mode === 'p2p') {
    parent.clear();
    for (const e of events) {
      if (e.kind === 'assigned') parent.set(e.viewer, parseAssignedDetail(e.detail).parent);
      if (e.kind === 'reparent') {
        const { from, to, reason } = parseReparentDetail(e.detail);
        parent.set(e.viewer, to);
        changes.push({ atUs: e.atUs, viewer: e.viewer, from, to, reason });
      }
    }
  }
  const viewers = new Set(plan.viewers.map((v) => v.id));
  return {
    parents: [...parent].map(([viewer, p]) => ({ viewer, parent: p, path: viewers.has(p) ? 'peer' : 'cdn' })),
    changes,
  };
}

/** Merges the processes' events into events.csv, in time order, and returns them. */
async function mergeEvents(
  rawDir: string,
  files: string[],
  outDir: string,
  skipped: (file: string) => StreamCsvOptions['onMalformedRow'],
): Promise<EventRow[]> {
  const rows: EventRow[] = [];
  for (const f of files.filter((f) => f.endsWith(RAW_SUFFIX.events))) {
    await streamCsv(join(rawDir, f), EVENT_COLUMNS, (fields) => rows.push(parseEventRow(fields)), {
      onMalformedRow: skipped(f),
    });
  }
  rows.sort((a, b) => a.atUs - b.atUs);
  const out = new CsvAppender(join(outDir, RESULTS_FILE.events), EVENT_COLUMNS);
  for (const e of rows) out.row(eventRow(e));
  await out.close();
  return rows;
}

/**
 * Compares the RTTs peers measured (what the tracker planned with) with the scenario's truth,
 * which only the lab looks at: median relative error and Spearman rank correlation.
 */
async function proximityAccuracy(
  rawDir: string,
  files: string[],
  plan: RunPlan,
  skipped: (file: string) => StreamCsvOptions['onMalformedRow'],
): Promise<{ proximity?: Summary['proximity'] }> {
  const measured: number[] = [];
  const truth: number[] = [];
  for (const f of files.filter((f) => f.endsWith(RAW_SUFFIX.proximity))) {
    await streamCsv(
      join(rawDir, f),
      PROXIMITY_COLUMNS,
      (fields) => {
        const { peer, node, rttMs } = parseProximityRow(fields);
        if (!plan.hosts.has(peer) || !plan.hosts.has(node)) return;
        measured.push(rttMs);
        truth.push(2 * plan.latencyMs(peer, node));
      },
      { onMalformedRow: skipped(f) },
    );
  }
  if (measured.length < 2) return {};
  const rel = measured.map((m, i) => Math.abs(m - truth[i]!) / truth[i]!).sort((a, b) => a - b);
  return {
    proximity: {
      samples: measured.length,
      medianRelativeError: round4(rel[Math.floor(rel.length / 2)]!),
      rankCorrelation: round4(spearman(measured, truth)),
    },
  };
}

function ranks(xs: number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) r[order[k]![1]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

/** Spearman's rank correlation: Pearson's correlation of the ranks (ties get mean ranks). */
export function spearman(a: number[], b: number[]): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const ma = mean(ra);
  const mb = mean(rb);
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i]! - ma) * (rb[i]! - mb);
    da += (ra[i]! - ma) ** 2;
    db += (rb[i]! - mb) ** 2;
  }
  return da === 0 || db === 0 ? 0 : num / Math.sqrt(da * db);
}

function round4(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}
