// Turns the raw per-process files of one mode's run into chunks.csv, events.csv and
// summary.json: delay, bound, stretch and excess distributions by path, losses, offload and the
// emulator's own error. Streams the CSVs: a large run has millions of rows.
import { createReadStream, createWriteStream, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Recorder, type Distribution } from '../../core/stats.js';
import type { Mode, RunPlan } from '../../core/types.js';
import { CHUNK_CSV_HEADER, EVENT_CSV_HEADER } from '../../results/csv.js';
import { PLAYOUT_DELAY_MS } from '../../peer/constants.js';
import { splitCsvLine } from '../../results/read.js';
import { gradeOverlay, plannerGap, type ReferenceSummary } from './reference.js';

export interface Summary {
  scenario: string;
  seed: number;
  mode: Mode;
  backend: string;
  linkShaping: string;
  viewers: number;
  chunks: number;
  lostChunks: number;
  delayMs: { cdn: Distribution; peer: Distribution; all: Distribution };
  boundMs: Distribution;
  stretch: { cdn: Distribution; peer: Distribution; all: Distribution };
  excessMs: Distribution;
  offload: number;
  /** per chunk-fragment hop: how much later than the model the bytes reached the receiver's process */
  emulationErrorMs: Distribution;
  /** the same for proximity probes (inflates measured RTTs, not chunk delays) */
  probeErrorMs?: Distribution;
  /** per hop: how late the receiver's timer ran its callback (delays actions, not recorded arrivals) */
  timerLatenessMs?: Distribution;
  joinTimeMs: Distribution;
  /** chunks a viewer completed after its playout deadline, or never */
  stalls: number;
  reparents: number;
  /** chunks fetched from the CDN edge because the peer path had not delivered them in time */
  lateChunks: number;
  /**
   * p2p: the reference tree (true latencies, the tracker's limits) this run's overlay is graded
   * against, and planner gap = measured delay ÷ the reference's at p50 and p95 (1.0 = as good as
   * full knowledge; proximity says how much of the rest is estimation error)
   */
  reference?: ReferenceSummary;
  plannerGap?: { p50: number; p95: number };
  /** how well measured RTTs (what the tracker plans with) match the scenario's true RTTs */
  proximity?: { samples: number; medianRelativeError: number; rankCorrelation: number };
  /** CPU seconds each service process used (user + system) */
  cpuSeconds: Record<string, number>;
  /** real video: broadcaster → origin delay of each chunk's first frame (origin.ingest.csv) */
  ingestDelayMs?: Distribution;
  /** real video: how the ingest went (source kind, anchor of the delay, early end) */
  ingest?: { kind: string; anchor: string; chunks: number; mediaSeconds: number; endedEarly?: string };
}

export interface RawRunInfo {
  plan: RunPlan;
  mode: Mode;
  backend: string;
  /** chunks the origin produced */
  chunksProduced: number;
  /** when chunk 0 began (µs), to map seq ↔ time */
  startUs: number;
  extra?: Partial<Summary>;
}

const Q = (resolution: number) => new Recorder(resolution);

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
  const out = createWriteStream(join(outDir, 'chunks.csv'));
  out.write(`${CHUNK_CSV_HEADER}\n`);
  const files = existsSync(rawDir) ? readdirSync(rawDir).sort() : [];
  let rows = 0;
  let late = 0;
  for (const f of files.filter((f) => f.endsWith('.chunks.csv'))) {
    const rl = createInterface({ input: createReadStream(join(rawDir, f)), crlfDelay: Infinity });
    let header = true;
    for await (const line of rl) {
      if (header) {
        header = false;
        continue;
      }
      if (!line) continue;
      const [viewer, seqS, , receivedS, delayS, boundS, path] = line.split(',');
      const seq = Number(seqS);
      const d = Number(delayS);
      const b = Number(boundS);
      const p = path === 'peer' ? 'peer' : 'cdn';
      let set = got.get(viewer!);
      if (!set) {
        set = new Set();
        got.set(viewer!, set);
      }
      if (set.has(seq)) continue;
      set.add(seq);
      if (!firstAt.has(viewer!)) firstAt.set(viewer!, Number(receivedS));
      out.write(`${line}\n`);
      rows++;
      delay[p].record(d);
      delay.all.record(d);
      stretch[p].record(d / b);
      stretch.all.record(d / b);
      excess.record(d - b);
      if (d > PLAYOUT_DELAY_MS) late++;
      bytes[p] += plan.stream.chunkBytes;
    }
  }
  await new Promise<void>((r) => out.end(r));
  for (const v of plan.viewers) bound.record(v.boundMs);

  // A chunk is lost for a viewer when it was produced while the viewer was present (from the
  // live edge it joined at) and never completed there.
  const chunkUs = plan.stream.chunkDurationUs;
  const lastSeq = info.chunksProduced - 1;
  let lost = 0;
  for (const v of plan.viewers) {
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
  for (const f of files.filter((f) => f.endsWith('.linkemu.json'))) {
    type Encoded = Parameters<Recorder['merge']>[0];
    const j = JSON.parse(readFileSync(join(rawDir, f), 'utf8')) as {
      proc: string;
      mechanism: string;
      errorMs: Encoded;
      probeErrorMs?: Encoded;
      latenessMs?: Encoded;
      cpuSeconds?: number;
    };
    linkShaping = j.mechanism;
    errors.merge(j.errorMs);
    if (j.latenessMs) lateness.merge(j.latenessMs);
    if (j.probeErrorMs) probeErrors.merge(j.probeErrorMs);
    if (j.cpuSeconds !== undefined) cpuSeconds[j.proc] = Math.round(j.cpuSeconds * 100) / 100;
  }
  const { counts: eventCounts, rows: eventRows } = mergeEvents(rawDir, files, outDir);
  const overlay = overlayOf(plan, info.mode, eventRows);
  writeFileSync(join(outDir, 'overlay.json'), `${JSON.stringify(overlay, null, 2)}\n`);
  const delayAll = delay.all.summary();
  const reference =
    info.mode === 'p2p' && rows > 0
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
    delayMs: { cdn: delay.cdn.summary(), peer: delay.peer.summary(), all: delayAll },
    boundMs: bound.summary(),
    stretch: { cdn: stretch.cdn.summary(), peer: stretch.peer.summary(), all: stretch.all.summary() },
    excessMs: excess.summary(),
    offload: total > 0 ? round4(bytes.peer / total) : 0,
    emulationErrorMs: errors.summary(),
    probeErrorMs: probeErrors.summary(),
    timerLatenessMs: lateness.summary(),
    joinTimeMs: joinTime.summary(),
    stalls: late + lost,
    reparents: eventCounts.get('reparent') ?? 0,
    lateChunks: eventCounts.get('fallback') ?? 0,
    ...(reference && { reference }),
    ...(gap && { plannerGap: gap }),
    ...proximityAccuracy(rawDir, files, plan),
    cpuSeconds,
    ...ingest,
  };
  Object.assign(summary, info.extra);
  writeFileSync(join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

/** The origin's ingest samples (real video only): column ingestDelayMs of origin.ingest.csv. */
async function readIngest(rawDir: string, files: string[]): Promise<Pick<Summary, 'ingestDelayMs' | 'ingest'>> {
  const out: Pick<Summary, 'ingestDelayMs' | 'ingest'> = {};
  if (files.includes('origin.ingest.csv')) {
    const r = Q(0.001);
    const rl = createInterface({ input: createReadStream(join(rawDir, 'origin.ingest.csv')), crlfDelay: Infinity });
    let col = -1;
    for await (const line of rl) {
      if (col < 0) col = line.split(',').indexOf('ingestDelayMs');
      else if (line) r.record(Number(line.split(',')[col]));
    }
    out.ingestDelayMs = r.summary();
  }
  if (files.includes('origin.ingest.json'))
    out.ingest = JSON.parse(readFileSync(join(rawDir, 'origin.ingest.json'), 'utf8')) as Summary['ingest'];
  return out;
}

/**
 * The overlay at the end of the run: each viewer's parent (its edge on the CDN path; on the peer
 * path, its last assignment) and every re-parent.
 */
function overlayOf(plan: RunPlan, mode: Mode, events: string[]) {
  const parent = new Map<string, string>(plan.viewers.map((v) => [v.id, v.edgeId]));
  const changes: Array<{ atUs: number; viewer: string; from: string; to: string; reason: string }> = [];
  if (mode === 'p2p') {
    parent.clear();
    for (const line of events) {
      const [at, kind, viewer, detail = ''] = splitCsvLine(line) ?? [];
      if (kind === 'assigned') parent.set(viewer!, detail.split(' ')[0]!);
      if (kind === 'reparent') {
        const [move = '', reason = ''] = detail.split(' ');
        const [from = '', to = ''] = move.split('>');
        parent.set(viewer!, to);
        changes.push({ atUs: Number(at), viewer: viewer!, from, to, reason });
      }
    }
  }
  const viewers = new Set(plan.viewers.map((v) => v.id));
  return {
    parents: [...parent].map(([viewer, p]) => ({ viewer, parent: p, path: viewers.has(p) ? 'peer' : 'cdn' })),
    changes,
  };
}

/** Merges the processes' events into events.csv (time order); returns counts by kind and the rows. */
function mergeEvents(rawDir: string, files: string[], outDir: string): { counts: Map<string, number>; rows: string[] } {
  const rows: Array<[number, string]> = [];
  const counts = new Map<string, number>();
  for (const f of files.filter((f) => f.endsWith('.events.csv'))) {
    const lines = readFileSync(join(rawDir, f), 'utf8').split('\n').slice(1).filter(Boolean);
    for (const l of lines) {
      const [at, kind] = l.split(',', 2);
      rows.push([Number(at), l]);
      counts.set(kind!, (counts.get(kind!) ?? 0) + 1);
    }
  }
  rows.sort((a, b) => a[0] - b[0]);
  writeFileSync(join(outDir, 'events.csv'), `${[EVENT_CSV_HEADER, ...rows.map((r) => r[1])].join('\n')}\n`);
  return { counts, rows: rows.map((r) => r[1]) };
}

/**
 * Compares the RTTs peers measured (what the tracker planned with) with the scenario's truth,
 * which only the lab looks at: median relative error and Spearman rank correlation.
 */
function proximityAccuracy(rawDir: string, files: string[], plan: RunPlan): { proximity?: Summary['proximity'] } {
  const measured: number[] = [];
  const truth: number[] = [];
  for (const f of files.filter((f) => f.endsWith('.proximity.csv'))) {
    for (const l of readFileSync(join(rawDir, f), 'utf8').split('\n').slice(1).filter(Boolean)) {
      const [peer, node, rtt] = l.split(',');
      if (!plan.hosts.has(peer!) || !plan.hosts.has(node!)) continue;
      measured.push(Number(rtt));
      truth.push(2 * plan.latencyMs(peer!, node!));
    }
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
