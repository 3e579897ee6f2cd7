// The MPEG-TS chunker on real transport streams made by ffmpeg (lavfi test pattern + tone, -g =
// keyframe interval): cuts on packet boundaries at keyframes, tables at every chunk start, chunks
// that decode alone, read sizes that do not matter, and a concatenation that is a clean stream.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TsChunker, probeTs, type TsChunk } from '../../services/origin/ingest/mpegts.js';

const ffmpegMissing =
  spawnSync('ffmpeg', ['-version']).error !== undefined || spawnSync('ffprobe', ['-version']).error !== undefined;
const skip = ffmpegMissing && 'ffmpeg/ffprobe not on PATH (apt-get install ffmpeg)';

const FPS = 30;
let dir = '';

/** 3 s of testsrc + sine as MPEG-TS, one keyframe every `gop` frames. */
function makeTs(name: string, gop: number, seconds = 3): Buffer {
  const out = join(dir, name);
  const r = spawnSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=160x90:rate=${FPS}[out0];sine=frequency=440:sample_rate=48000[out1]`,
    '-t',
    String(seconds),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-g',
    String(gop),
    '-keyint_min',
    String(gop),
    '-sc_threshold',
    '0',
    '-c:a',
    'aac',
    '-b:a',
    '64k',
    '-f',
    'mpegts',
    out,
  ]);
  assert.equal(r.status, 0, r.stderr?.toString());
  return spawnSync('cat', [out], { maxBuffer: 64 << 20 }).stdout;
}

function chunkAll(ts: Buffer, chunkDurationUs: number, pieceBytes?: number): TsChunk[] {
  const c = new TsChunker({ chunkDurationUs });
  const out: TsChunk[] = [];
  if (pieceBytes === undefined) out.push(...c.push(ts, 0));
  else for (let i = 0; i < ts.length; i += pieceBytes) out.push(...c.push(ts.subarray(i, i + pieceBytes), i));
  const last = c.flush(ts.length);
  if (last) out.push(last);
  return out;
}

function ffprobe(file: string, args: string[]): string {
  const r = spawnSync('ffprobe', ['-v', 'error', ...args, '-of', 'csv=p=0', file]);
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout.toString().trim();
}

describe('TsChunker', { skip }, () => {
  let gop15: Buffer;
  let gop30: Buffer;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'livepath-mpegts-'));
    gop15 = makeTs('gop15.ts', 15);
    gop30 = makeTs('gop30.ts', 30);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the video and audio PIDs in PAT/PMT', () => {
    const { program } = probeTs(gop15);
    assert.equal(typeof program.pmtPid, 'number');
    assert.equal(typeof program.videoPid, 'number');
    assert.equal(program.audioPids.length, 1);
  });

  it('cuts at every keyframe when the keyframe interval equals the chunk duration', () => {
    const chunks = chunkAll(gop15, 500_000);
    assert.equal(chunks.length, 6);
    for (const [i, c] of chunks.entries()) {
      assert.equal(c.payload.length % 188, 0, `chunk ${i} is whole packets`);
      assert.equal(c.keyframe, true, `chunk ${i} starts with a keyframe`);
      assert.equal(c.durationUs, 500_000, `chunk ${i} lasts 15 frames`);
      assert.equal(c.mediaOffsetUs, i * 500_000);
      if (i === 0) continue; // the stream's own start (SDT, PAT, PMT)
      // PAT then PMT at the start of every later chunk
      const pid = (at: number) => ((c.payload[at * 188 + 1]! & 0x1f) << 8) | c.payload[at * 188 + 2]!;
      assert.equal(pid(0), 0);
      assert.equal(pid(1), probeTs(gop15).program.pmtPid);
    }
    assert.equal(chunks.reduce((n, c) => n + c.payload.length, 0) > gop15.length, true, 'tables were added');
  });

  it('cuts between keyframes when the GOP is longer than a chunk, and marks only keyframe chunks', () => {
    const chunks = chunkAll(gop30, 500_000);
    assert.deepEqual(
      chunks.map((c) => c.keyframe),
      [true, false, true, false, true, false],
    );
    for (const c of chunks) assert.equal(c.durationUs, 500_000);
  });

  it('gives the same chunks whatever the read sizes', () => {
    const whole = chunkAll(gop15, 500_000).map((c) => c.payload);
    for (const piece of [7, 188, 1000, 65536]) {
      const split = chunkAll(gop15, 500_000, piece).map((c) => c.payload);
      assert.deepEqual(split, whole, `pieces of ${piece} bytes`);
    }
  });

  it('resynchronises after garbage before the stream', () => {
    const garbage = Buffer.from('not a transport stream, but some text then 0x47: G!');
    const chunks = chunkAll(Buffer.concat([garbage, gop15]), 500_000);
    assert.equal(chunks.length, 6);
    assert.equal(chunks[0]!.payload[0], 0x47);
  });

  it('makes chunks that decode alone from their first frame (video + audio)', () => {
    const chunks = chunkAll(gop15, 500_000);
    const file = join(dir, 'chunk3.ts');
    writeFileSync(file, chunks[3]!.payload);
    const types = new Set(ffprobe(file, ['-show_entries', 'stream=codec_type']).split('\n').filter(Boolean));
    assert.deepEqual([...types].sort(), ['audio', 'video']);
    const firstFrame = ffprobe(file, [
      '-select_streams',
      'v',
      '-read_intervals',
      '%+#1',
      '-show_entries',
      'frame=key_frame,pict_type',
    ]);
    assert.match(firstFrame, /^1,I/);
  });

  it('makes a concatenation that ffmpeg decodes without errors from any chunk on', () => {
    const chunks = chunkAll(gop15, 500_000);
    for (const from of [0, 2]) {
      const file = join(dir, `from${from}.ts`);
      writeFileSync(file, Buffer.concat(chunks.slice(from).map((c) => c.payload)));
      const r = spawnSync('ffmpeg', ['-hide_banner', '-v', 'error', '-i', file, '-f', 'null', '-']);
      assert.equal(r.status, 0);
      assert.equal(r.stderr.toString(), '', `decoding from chunk ${from}`);
      const duration = Number(ffprobe(file, ['-show_entries', 'format=duration']));
      assert.ok(Math.abs(duration - (6 - from) * 0.5) <= 0.1, `duration ${duration}`);
    }
  });
});
