// The ingest pieces that do not need a broadcaster: the viewer recorder (order, keyframe start,
// gaps), the scenario's stream.source, ffmpeg's arguments, and the file source end to end on a
// short lavfi test pattern (chunks at keyframes, a clear error when ffmpeg fails).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseScenario } from '../../services/core/scenario/load.js';
import { buildPlan } from '../../services/core/scenario/plan.js';
import type { StreamPlan } from '../../services/core/types.js';
import { FfmpegFailedError, FfmpegSource, ffmpegArgs } from '../../services/origin/ingest/ffmpeg.js';
import type { SourceChunk } from '../../services/origin/origin.js';
import { RECORDER_REORDER_CHUNKS, TsRecorder, parseRecordIndex } from '../../services/results/recording.js';
import { systemClock } from '../../services/runtime/clock.js';

const STREAM: StreamPlan = {
  streamId: 's',
  bitrateBps: 1e6,
  chunkDurationUs: 500_000,
  chunkBytes: 62_500,
  keyframeIntervalChunks: 2,
  fragmentBytes: 16_384,
  production: 'segment',
  frameRate: 30,
  pacing: 'frame',
  releasesPerChunk: 1,
  releaseUnitBytes: 62_500,
};
const chunk = (seq: number, keyframe: boolean) => ({ seq, keyframe, payload: Buffer.from(`<${seq}>`) });

describe('TsRecorder', () => {
  let dir = '';
  before(() => (dir = mkdtempSync(join(tmpdir(), 'livepath-rec-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('starts at the first keyframe chunk and writes in seq order', async () => {
    const r = new TsRecorder(dir, 'late');
    r.chunk(chunk(5, false)); // before any keyframe: undecodable, dropped
    r.chunk(chunk(6, true));
    r.chunk(chunk(8, false)); // ahead of 7: held
    r.chunk(chunk(7, false));
    r.chunk(chunk(6, true)); // duplicate
    await r.close();
    assert.equal(readFileSync(join(dir, 'late.ts'), 'utf8'), '<6><7><8>');
    assert.deepEqual(parseRecordIndex(readFileSync(join(dir, 'late.index.csv'), 'utf8')), [
      { seq: 6, offset: 0, bytes: 3, keyframe: true },
      { seq: 7, offset: 3, bytes: 3, keyframe: false },
      { seq: 8, offset: 6, bytes: 3, keyframe: false },
    ]);
  });

  it('goes on without a chunk that never comes, once enough later ones wait', async () => {
    const r = new TsRecorder(dir, 'gap');
    r.chunk(chunk(0, true));
    for (let s = 2; s < 2 + RECORDER_REORDER_CHUNKS; s++) r.chunk(chunk(s, false));
    assert.equal(r.skipped, 1);
    r.chunk(chunk(1, false)); // too late now
    await r.close();
    assert.deepEqual(r.written, [0, ...Array.from({ length: RECORDER_REORDER_CHUNKS }, (_, i) => i + 2)]);
  });
});

describe('stream.source in a scenario', () => {
  const scenario = (source: string) => `
name: v
durationS: 4
stream:
  bitrateBps: 1e6
  chunkDurationMs: 500
${source}
graph:
  nodes:
    - { id: b, role: broadcaster }
    - { id: o, role: origin }
    - { id: e, role: edge }
    - { id: p, role: peer }
  links:
    - { a: b, b: o, latencyMs: 1 }
    - { a: o, b: e, latencyMs: 1 }
    - { a: e, b: p, latencyMs: 1 }
`;

  it('is absent from the plan of a synthetic scenario', () => {
    assert.equal(buildPlan(parseScenario(scenario(''), 'v.yaml')).stream.source, undefined);
  });

  it('reaches the plan when given', () => {
    const plan = buildPlan(parseScenario(scenario('  source: { kind: rtmp, streamKey: abc }'), 'v.yaml'));
    assert.deepEqual(plan.stream.source, { kind: 'rtmp', streamKey: 'abc' });
  });

  it('needs an input for a file source, and says how to write one', () => {
    assert.throws(
      () => parseScenario(scenario('  source: { kind: file }'), 'v.yaml'),
      /stream\.source\.input.*lavfi:/s,
    );
  });

  it('refuses a stream key that cannot sit in a URL', () => {
    assert.throws(() => parseScenario(scenario('  source: { kind: rtmp, streamKey: "a b/c" }'), 'v.yaml'), /streamKey/);
  });
});

describe('ffmpegArgs', () => {
  it('forces keyframes on the chunk grid × keyframe interval for an encoded source', () => {
    const args = ffmpegArgs({ kind: 'file', stream: STREAM, durationS: 4, input: 'lavfi:testsrc' });
    assert.ok(args.includes('expr:gte(t,n_forced*1)'), args.join(' '));
    assert.deepEqual(args.slice(args.indexOf('-f'), args.indexOf('-f') + 3), ['-f', 'lavfi', '-i']);
    assert.equal(args.at(-1), 'pipe:1');
  });

  it('copies an RTMP broadcast without dropping what ffmpeg read while probing', () => {
    const args = ffmpegArgs({ kind: 'rtmp', stream: STREAM, durationS: 4, input: 'rtmp://127.0.0.1:1/live/k' });
    assert.ok(args.includes('copy'));
    // -fflags nobuffer made the origin lose the first 1.5 s of every broadcast.
    assert.ok(!args.includes('nobuffer'), args.join(' '));
  });
});

const ffmpegMissing =
  spawnSync('ffmpeg', ['-version']).error !== undefined && 'ffmpeg not on PATH (apt-get install ffmpeg)';

describe('FfmpegSource (file)', { skip: ffmpegMissing }, () => {
  const log = { info: () => undefined, warn: () => undefined };
  const run = (input: string, durationS: number) =>
    new Promise<{ chunks: SourceChunk[]; partsOf: Buffer[][]; reason?: Error }>((resolve) => {
      const chunks: SourceChunk[] = [];
      // the parts handed on before each chunk's end (the chunk in progress gets them as ffmpeg writes)
      const partsOf: Buffer[][] = [[]];
      const s = new FfmpegSource(
        { kind: 'file', stream: { ...STREAM, keyframeIntervalChunks: 1 }, durationS, input },
        { clock: systemClock, log },
      );
      s.start(systemClock.nowUs(), {
        part: (p) => partsOf[partsOf.length - 1]!.push(p.payload),
        emit: (c) => {
          chunks.push(c);
          partsOf.push([]);
        },
        end: (reason) => resolve({ chunks, partsOf, reason }),
      });
    });

  it('emits keyframe chunks of the chunk duration for as long as the scenario lasts', async () => {
    const { chunks, partsOf, reason } = await run(
      'lavfi:testsrc=size=160x90:rate=30[out0];sine=frequency=440[out1]',
      2,
    );
    assert.equal(reason, undefined);
    assert.equal(chunks.length, 4);
    chunks.forEach((c, i) => {
      assert.equal(c.keyframe, true);
      assert.equal(c.durationUs, 500_000);
      assert.equal(c.payload.length % 188, 0);
      // Frame-paced: the packets went on as ffmpeg wrote them, a prefix of the chunk, in many reads.
      const sent = Buffer.concat(partsOf[i]!);
      assert.ok(partsOf[i]!.length >= 5, `chunk ${i} handed on in ${partsOf[i]!.length} parts`);
      assert.ok(sent.equals(c.payload.subarray(0, sent.length)), `chunk ${i}: the parts are the chunk's first bytes`);
    });
  });

  it('ends with a message naming ffmpeg and its error when the input cannot be read', async () => {
    const { chunks, reason } = await run('/nonexistent/video.mp4', 2);
    assert.equal(chunks.length, 0);
    assert.ok(reason instanceof FfmpegFailedError);
    assert.match(reason.message, /ffmpeg \(file source\) failed before any video: exit 1: .*No such file/);
  });
});
