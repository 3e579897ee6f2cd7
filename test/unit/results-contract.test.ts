// The results contract (services/results): every file a run writes is read back by the same
// module to what was written, so a column or field changed in one place cannot drift between the
// services that write it, the lab that merges it and the report that reads it.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { Recorder } from '../../services/core/stats.js';
import { summarize } from '../../services/lab/results/summarize.js';
import {
  CHUNK_COLUMNS,
  chunkCount,
  chunkRow,
  isStall,
  PATH_OF_CODE,
  readChunksCsv,
  streamChunksCsv,
  type ChunkRow,
} from '../../services/results/chunks.js';
import { PLAYOUT_DELAY_MS } from '../../services/results/constants.js';
import { CsvAppender, readCsvRows } from '../../services/results/csv.js';
import { MalformedResultsFileError } from '../../services/results/errors.js';
import {
  assignedDetail,
  EVENT_COLUMNS,
  EVENT_KINDS,
  eventRow,
  parseAssignedDetail,
  parseReparentDetail,
  readEventsCsv,
  reparentDetail,
  type EventRow,
} from '../../services/results/events.js';
import { readJsonFile, writeJsonFile } from '../../services/results/json.js';
import { RESULTS_FILE } from '../../services/results/layout.js';
import { planSchema, planToJson, writePlanFile } from '../../services/results/plan.js';
import {
  DECISION_COLUMNS,
  decisionRow,
  linkemuFileSchema,
  parseDecisionRow,
  parseProximityRow,
  PROXIMITY_COLUMNS,
  proximityRow,
  rawAppender,
  rawFile,
  writeLinkemuFile,
} from '../../services/results/raw.js';
import { readModeDir } from '../../services/results/read.js';
import { summarySchema, type Summary } from '../../services/results/summary.js';
import { loadPlan } from '../../services/runtime/plan.js';
import { fakePlan } from '../helpers/fake-plan.js';

const scratch = mkdtempSync(join(tmpdir(), 'livepath-results-contract-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let files = 0;
const file = (name: string) => join(scratch, `${files++}-${name}`);

async function writeRows(path: string, columns: readonly string[], rows: Array<Array<string | number>>) {
  const out = new CsvAppender(path, columns);
  for (const r of rows) out.row(r);
  await out.close();
}

// Ids as a scenario allows them, plus the characters CSV must quote.
const id = fc.stringMatching(/^[a-z0-9][a-z0-9.,"_-]{0,12}$/);
const chunkRowArb: fc.Arbitrary<ChunkRow> = fc.record({
  viewer: id,
  seq: fc.nat({ max: 1_000_000 }),
  producedAtUs: fc.nat({ max: 2 ** 52 }),
  receivedAtUs: fc.nat({ max: 2 ** 52 }),
  // Written with 3 decimals: generate values that have at most 3.
  delayMs: fc.integer({ min: 0, max: 10_000_000 }).map((n) => n / 1000),
  boundMs: fc.integer({ min: 1, max: 10_000_000 }).map((n) => n / 1000),
  path: fc.constantFrom('cdn', 'peer'),
  hops: fc.nat({ max: 0xffff }),
  parent: id,
});

describe('chunks.csv', () => {
  it('reads back every row a viewer writes, field by field, in the columns it names', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(chunkRowArb, { maxLength: 40 }), async (rows) => {
        const path = file('chunks.csv');
        await writeRows(path, CHUNK_COLUMNS, rows.map(chunkRow));
        const back: ChunkRow[] = [];
        await streamChunksCsv(path, (r) => back.push(r));
        assert.deepEqual(
          back,
          rows.map((r) => ({ ...r })),
        );
        // The row type and the columns are one list: a column added to one and not the other fails here.
        for (const r of back) assert.deepEqual(Object.keys(r), [...CHUNK_COLUMNS]);
        const table = await readChunksCsv(path);
        assert.equal(table.rowCount, rows.length);
        rows.forEach((r, i) => {
          assert.equal(table.viewers[table.viewerIndex[i]!], r.viewer);
          assert.equal(table.parents[table.parentIndex[i]!], r.parent);
          assert.equal(table.seq[i], r.seq);
          assert.equal(table.hops[i], r.hops);
          assert.equal(PATH_OF_CODE[table.path[i]!], r.path);
          assert.ok(Math.abs(table.delayMs[i]! - r.delayMs) <= r.delayMs * 1e-6);
        });
      }),
      { numRuns: 30 },
    );
  });

  it('the broadcast has durationS / chunk duration whole chunks, and a chunk later than the playout delay stalls', () => {
    const plan = fakePlan();
    assert.equal(chunkCount(plan), Math.floor((plan.durationS * 1e6) / plan.stream.chunkDurationUs));
    assert.equal(chunkCount({ durationS: 1.1, stream: { ...plan.stream, chunkDurationUs: 250_000 } }), 4);
    assert.equal(isStall(PLAYOUT_DELAY_MS), false);
    assert.equal(isStall(PLAYOUT_DELAY_MS + 0.001), true);
  });
});

describe('events.csv', () => {
  it('reads back every kind, with details that need quoting', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            atUs: fc.nat({ max: 2 ** 52 }),
            kind: fc.constantFrom(...EVENT_KINDS),
            viewer: id,
            detail: fc.string({ maxLength: 30 }).filter((s) => !/[\r\n]/.test(s)),
          }),
          { maxLength: 30 },
        ),
        async (rows: EventRow[]) => {
          const path = file('events.csv');
          await writeRows(path, EVENT_COLUMNS, rows.map(eventRow));
          assert.deepEqual(
            await readEventsCsv(path),
            rows.map((r) => ({ ...r })),
          );
        },
      ),
      { numRuns: 30 },
    );
  });

  it('re-parent and assignment details read back to what was written', () => {
    for (const r of [
      { from: 'edge-1', to: 'v7', reason: 'improve' },
      { from: '', to: 'origin', reason: 'parent-lost' },
    ]) {
      assert.deepEqual(parseReparentDetail(reparentDetail(r)), r);
    }
    assert.deepEqual(parseAssignedDetail(assignedDetail('sydney-3', 41.25)), { parent: 'sydney-3' });
  });
});

describe('raw files', () => {
  it("the tracker's proximity samples and decisions read back", async () => {
    const samples = [
      { peer: 'v1', node: 'edge', rttMs: 12.5 },
      { peer: 'v2', node: 'v1', rttMs: 0.125 },
    ];
    const decisions = [
      {
        atUs: 1_700_000_000_000_000,
        peer: 'v1',
        parent: 'edge',
        reason: 'join',
        expectedDelayMs: 61.5,
        overBudget: false,
      },
      {
        atUs: 1_700_000_000_500_000,
        peer: 'v2',
        parent: 'v1',
        reason: 'improve',
        expectedDelayMs: 80,
        overBudget: true,
      },
    ];
    const dir = mkdtempSync(join(scratch, 'raw-'));
    const p = rawAppender(dir, 'tracker', 'proximity');
    for (const s of samples) p.row(proximityRow(s));
    await p.close();
    const d = rawAppender(dir, 'tracker', 'decisions');
    for (const x of decisions) d.row(decisionRow(x));
    await d.close();
    assert.deepEqual(
      await readCsvRows(rawFile(dir, 'tracker', 'proximity'), PROXIMITY_COLUMNS, parseProximityRow),
      samples,
    );
    assert.deepEqual(
      await readCsvRows(rawFile(dir, 'tracker', 'decisions'), DECISION_COLUMNS, parseDecisionRow),
      decisions,
    );
  });

  it("the link emulator's histograms survive the file, an empty one included", async () => {
    const errors = new Recorder(0.001);
    for (const v of [0.5, 1.25, 7]) errors.record(v);
    const empty = new Recorder(0.001);
    const dir = mkdtempSync(join(scratch, 'linkemu-'));
    writeLinkemuFile(dir, {
      proc: 'peers-0',
      mechanism: 'linkemu',
      errorMs: errors.encode(),
      probeErrorMs: empty.encode(),
      cpuSeconds: 1.5,
    });
    const back = await readJsonFile(rawFile(dir, 'peers-0', 'linkemu'), linkemuFileSchema);
    const merged = new Recorder(0.001);
    merged.merge(back.errorMs);
    merged.merge(back.probeErrorMs!);
    assert.deepEqual(merged.summary(), errors.summary());
    assert.equal(back.cpuSeconds, 1.5);
  });
});

describe('JSON files', () => {
  it('plan.json keeps every field the writer puts in it, and reads back', async () => {
    for (const plan of [loadPlan('scenarios/world.yaml'), loadPlan('scenarios/small.yaml'), fakePlan()]) {
      const path = file('plan.json');
      writePlanFile(path, plan);
      const written = JSON.parse(readFileSync(path, 'utf8'));
      // A field the writer adds without the schema would be dropped here.
      assert.deepEqual(written, JSON.parse(JSON.stringify(planToJson(plan))));
      assert.deepEqual(await readJsonFile(path, planSchema), written);
    }
  });

  it('summary.json keeps every field of a run and reads back; a bad value is refused, not written', async () => {
    const d = { p50: 1, p95: 2, p99: 3, max: 4, count: 5 };
    const summary: Summary = {
      scenario: 'w',
      seed: 1,
      mode: 'p2p',
      backend: 'local',
      linkShaping: 'linkemu',
      viewers: 2,
      chunks: 10,
      lostChunks: 0,
      production: { mode: 'progressive', releasesPerChunk: 8, releaseUnitBytes: 11_719 },
      delayMs: { cdn: d, peer: d, all: d },
      boundMs: d,
      fragmentDelayMs: { cdn: d, peer: d, all: d },
      belowBound: { chunks: 0, fragments: 0 },
      positionWaitMs: [{ position: 0, ...d }],
      stretch: { cdn: d, peer: d, all: d },
      excessMs: d,
      offload: 0.5,
      emulationErrorMs: d,
      probeErrorMs: d,
      timerLatenessMs: d,
      joinTimeMs: d,
      stalls: 0,
      reparents: 1,
      lateChunks: 0,
      reference: { delayMs: d, meanDelayMs: 70, greedyMeanDelayMs: 75, finalTreeDelayMs: d, moves: 3, computeMs: 12 },
      plannerGap: { p50: 1.1, p95: 1.3 },
      proximity: { samples: 4, medianRelativeError: 0.01, rankCorrelation: 0.9 },
      cpuSeconds: { origin: 1.2 },
      ingestDelayMs: d,
      ingest: { kind: 'file', input: 'lavfi:testsrc', anchor: 'ffmpeg-start', chunks: 10, mediaSeconds: 2.5 },
    };
    const path = file('summary.json');
    writeJsonFile(path, summarySchema, summary);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), summary);
    assert.deepEqual(await readJsonFile(path, summarySchema), summary);
    const bad = file('summary.json');
    assert.throws(
      () => writeJsonFile(bad, summarySchema, { ...summary, offload: 1.5 }),
      (e: unknown) => e instanceof MalformedResultsFileError && /offload/.test(e.message),
    );
    assert.throws(() => readFileSync(bad));
  });
});

describe('the lab merges what the services wrote', () => {
  it('a half-written last row of a killed process is skipped, and the rows before it are kept', async () => {
    const plan = fakePlan();
    const dir = mkdtempSync(join(scratch, 'mode-'));
    const raw = join(dir, 'raw');
    const rows: ChunkRow[] = [0, 1, 2].map((seq) => ({
      viewer: 'v1',
      seq,
      producedAtUs: 1_000_000 * (seq + 1),
      receivedAtUs: 1_000_000 * (seq + 1) + 60_000,
      delayMs: 60,
      boundMs: 50,
      path: 'cdn',
      hops: 2,
      parent: 'edge',
    }));
    mkdirSync(raw);
    await writeRows(rawFile(raw, 'peers-0', 'chunks'), CHUNK_COLUMNS, rows.map(chunkRow));
    writeFileSync(rawFile(raw, 'peers-0', 'chunks'), 'v1,3,4000000,40', { flag: 'a' });
    await writeRows(rawFile(raw, 'peers-0', 'events'), EVENT_COLUMNS, [
      eventRow({ atUs: 5, kind: 'join', viewer: 'v1', detail: 'edge' }),
    ]);
    writePlanFile(join(dir, RESULTS_FILE.plan), plan);
    const summary = await summarize(raw, dir, { plan, mode: 'cdn', backend: 'local', chunksProduced: 3, startUs: 0 });
    assert.equal(summary.chunks, 3);
    const back = await readModeDir(dir, 'cdn');
    assert.equal(back.chunks.rowCount, 3);
    assert.deepEqual(back.summary, summary);
    assert.equal(back.events.length, 1);
  });
});

describe('raw records of a restarted process', () => {
  it('a service restarted in its pod appends to the records it left, one header', async () => {
    const dir = file('restart');
    mkdirSync(dir);
    for (const viewer of ['first-run', 'second-run']) {
      const out = rawAppender(dir, 'peers', 'events');
      out.row(eventRow({ atUs: 1, kind: 'join', viewer, detail: 'edge1' }));
      await out.close();
    }
    const text = readFileSync(rawFile(dir, 'peers', 'events'), 'utf8');
    assert.equal(text.split('\n').filter((l) => l === EVENT_COLUMNS.join(',')).length, 1);
    assert.deepEqual(
      (await readEventsCsv(rawFile(dir, 'peers', 'events'))).map((e) => e.viewer),
      ['first-run', 'second-run'],
    );
  });
});
