// Real video end to end: ffmpeg pushes a test pattern with a tone over RTMP to nginx-rtmp (started
// by `livepath run` for the video-rtmp scenario); the origin pulls it, cuts chunks, and the CDN path
// carries them to three viewers that record what they got. Checks the recordings play (ffprobe),
// equal the origin's output byte for byte, that the late joiner starts at a keyframe, that a wrong
// stream key is refused, and that a broadcaster killed mid-push ends the run but keeps the files.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findRtmpModule } from '../../services/origin/ingest/nginx.js';
import { parseRecordIndex } from '../../services/results/recording.js';
import { parse, stringify } from 'yaml';
import { assertNoChunkBelowBound, readChunks } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/dist\/?$/, '');
const CLI = join(ROOT, 'bin/livepath.js');

function missingTools(): string | false {
  for (const t of ['ffmpeg', 'ffprobe'])
    if (spawnSync(t, ['-version']).error) return `${t} not on PATH (apt-get install ffmpeg)`;
  try {
    findRtmpModule();
  } catch (e) {
    return (e as Error).message;
  }
  if (!existsSync(join(ROOT, 'dist/services/lab/cli.js'))) return 'not built (npm run build)';
  return false;
}
const skip = missingTools();

/** A generous bound so a loaded CI machine cannot hang the suite; nothing asserts on time. */
const RUN_TIMEOUT_MS = 120_000;
const PUSH_SECONDS = 10;
const CHUNK_S = 0.5;

/** ffmpeg as a broadcaster: a 30 fps test pattern + 440 Hz tone, keyframe every chunk, pushed as FLV. */
function push(url: string, seconds: number): ChildProcess {
  return spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x180:rate=30[out0];sine=frequency=440:sample_rate=48000[out1]',
      '-t',
      String(seconds),
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-g',
      '15',
      '-keyint_min',
      '15',
      '-sc_threshold',
      '0',
      '-c:a',
      'aac',
      '-b:a',
      '64k',
      '-f',
      'flv',
      url,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

const exitOf = (c: ChildProcess) =>
  new Promise<number | null>((r) =>
    c.exitCode !== null || c.signalCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code)),
  );

/**
 * Starts `livepath <args>`. waitFor resolves with the next stderr line (after the previous match)
 * that matches, so the same message can be awaited once per mode.
 */
function livepath(args: string[]): {
  child: ChildProcess;
  stderr: string[];
  waitFor(re: RegExp): Promise<RegExpMatchArray>;
} {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  let cursor = 0;
  let waiter: { re: RegExp; resolve: (m: RegExpMatchArray) => void } | undefined;
  const scan = () => {
    while (waiter && cursor < stderr.length) {
      const m = waiter.re.exec(stderr[cursor++]!);
      if (m) {
        const w = waiter;
        waiter = undefined;
        w.resolve(m);
      }
    }
  };
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderr.push(line);
    scan();
  });
  child.stdout!.resume();
  return {
    child,
    stderr,
    waitFor: (re) =>
      new Promise((resolve, reject) => {
        waiter = { re, resolve };
        scan();
        void exitOf(child).then(() =>
          setImmediate(
            () =>
              waiter?.re === re && reject(new Error(`livepath exited before printing ${re}:\n${stderr.join('\n')}`)),
          ),
        );
      }),
  };
}

function ffprobe(file: string, entries: string, extra: string[] = []): string {
  const r = spawnSync('ffprobe', ['-v', 'error', ...extra, '-show_entries', entries, '-of', 'csv=p=0', file]);
  assert.equal(r.status, 0, `ffprobe ${file}: ${r.stderr}`);
  return r.stdout.toString().trim();
}

function streamTypes(file: string): string[] {
  return [...new Set(ffprobe(file, 'stream=codec_type').split('\n').filter(Boolean))].sort();
}

function durationS(file: string): number {
  return Number(ffprobe(file, 'format=duration'));
}

/** The bytes of the origin's recording for seqs [from, to]. */
function originRange(rec: string, from: number, to: number): Buffer {
  const index = parseRecordIndex(readFileSync(join(rec, 'origin.index.csv'), 'utf8'));
  const first = index.find((r) => r.seq === from);
  const last = index.find((r) => r.seq === to);
  assert.ok(first && last, `origin recorded seqs ${from}..${to}`);
  return readFileSync(join(rec, 'origin.ts')).subarray(first.offset, last.offset + last.bytes);
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      r(true);
    });
    s.once('error', () => {
      s.destroy();
      r(false);
    });
  });
}

describe('real video over RTMP', { skip, timeout: 4 * RUN_TIMEOUT_MS }, () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'livepath-video-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('livepath ingest refuses a push with a wrong key, accepts the right one, and stops nginx on Ctrl-C', async () => {
    const ingest = spawn(process.execPath, [CLI, 'ingest', '--stream-key', 'right-key'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((r) => createInterface({ input: ingest.stdout! }).once('line', r));
    assert.match(url, /^rtmp:\/\/127\.0\.0\.1:\d+\/live\/right-key$/);
    const port = Number(/:(\d+)\//.exec(url)![1]);
    const wrong = push(url.replace('right-key', 'wrong-key'), 1);
    assert.notEqual(await exitOf(wrong), 0, 'a push with the wrong key is refused');
    const right = push(url, 1);
    assert.equal(await exitOf(right), 0, 'a push with the right key goes through');
    ingest.kill('SIGINT');
    assert.equal(await exitOf(ingest), 0);
    assert.equal(await portOpen(port), false, 'nginx is gone after Ctrl-C');
  });

  it('carries a 10 s broadcast to every viewer on both paths; recordings play and equal the origin output; the late joiner starts at a keyframe', {
    timeout: 2 * RUN_TIMEOUT_MS,
  }, async () => {
    const out = join(dir, 'full');
    const recRoot = join(dir, 'full-rec');
    // --mode both: one broadcast per mode (cdn, then p2p), each pushed when the origin attaches.
    const run = livepath(['run', 'video-rtmp', '--mode', 'both', '--out', out, '--record', recRoot, '--quiet']);
    const [, url] = await run.waitFor(/push to (rtmp:\S+)/);
    for (const mode of ['cdn', 'p2p']) {
      await run.waitFor(/origin attached to the ingest/);
      if (mode === 'cdn') {
        const wrong = push(url!.replace(/[^/]+$/, 'not-the-key'), 1);
        assert.notEqual(await exitOf(wrong), 0, 'a push with a wrong key is refused');
      }
      const broadcaster = push(url!, PUSH_SECONDS);
      assert.equal(await exitOf(broadcaster), 0);
    }
    assert.equal(await exitOf(run.child), 0, run.stderr.join('\n'));
    assertNoChunkBelowBound(out);
    for (const mode of ['cdn', 'p2p']) checkRecordings(join(recRoot, mode), join(out, mode));
    // Frame-paced: the bound of each chunk charges its last part as ffmpeg wrote it (a few TS
    // packets, often none), not the nominal 75 KB chunk: so it is close to the propagation alone
    // (but for the first chunks, which ffmpeg writes in a burst after probing the stream).
    const plan = JSON.parse(readFileSync(join(out, 'cdn', 'plan.json'), 'utf8'));
    assert.equal(plan.stream.production, 'progressive');
    const rows = readChunks(join(out, 'cdn'));
    const extraMs = rows.map((row) => {
      const v = plan.viewers.find((x: { id: string }) => x.id === row.viewer);
      const wholeChunkMs = ((plan.stream.chunkBytes * 8) / v.bottleneckBps) * 1000;
      assert.ok(row.boundMs < v.boundPropagationMs + wholeChunkMs, `${row.viewer} seq ${row.seq}: ${row.boundMs} ms`);
      return row.boundMs - v.boundPropagationMs;
    });
    assert.ok(
      extraMs.filter((x) => x < 1).length >= 0.8 * rows.length,
      `most chunks end with a small part: ${extraMs.map((x) => x.toFixed(2)).join(' ')}`,
    );
  });

  function checkRecordings(rec: string, out: string): void {
    for (const v of ['v1', 'v2', 'v3']) {
      const file = join(rec, `${v}.ts`);
      assert.deepEqual(streamTypes(file), ['audio', 'video'], `${v} has video and audio`);
      const index = parseRecordIndex(readFileSync(join(rec, `${v}.index.csv`), 'utf8'));
      const seqs = index.map((r) => r.seq);
      assert.deepEqual(
        seqs,
        Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i),
        `${v} recorded consecutive seqs`,
      );
      assert.ok(
        readFileSync(file).equals(originRange(rec, seqs[0]!, seqs.at(-1)!)),
        `${v}'s bytes are the origin's for seqs ${seqs[0]}..${seqs.at(-1)}`,
      );
      const expectedS = v === 'v3' ? seqs.length * CHUNK_S : PUSH_SECONDS;
      const d = durationS(file);
      assert.ok(Math.abs(d - expectedS) <= CHUNK_S, `${v} lasts ${d} s, expected ${expectedS} ± ${CHUNK_S}`);
      // Decodes from its first chunk on: the first video frame is a keyframe, and nothing errors.
      assert.match(
        ffprobe(file, 'frame=key_frame,pict_type', ['-select_streams', 'v', '-read_intervals', '%+#1']),
        /^1,I/,
        `${v} starts with a keyframe`,
      );
      const decode = spawnSync('ffmpeg', ['-hide_banner', '-v', 'error', '-i', file, '-f', 'null', '-']);
      assert.equal(decode.status, 0);
      assert.equal(decode.stderr.toString(), '', `${v} decodes without errors`);
    }
    const v3 = parseRecordIndex(readFileSync(join(rec, 'v3.index.csv'), 'utf8'));
    assert.ok(v3[0]!.seq > 0 && v3[0]!.keyframe, 'the late joiner began mid-broadcast, at a keyframe chunk');

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    assert.equal(summary.ingest.anchor, 'rtmp-publish');
    assert.equal(summary.ingest.endedEarly, undefined);
    assert.ok(
      summary.ingestDelayMs.count >= PUSH_SECONDS / CHUNK_S - 1,
      `ingest delay of every chunk (${summary.ingestDelayMs.count})`,
    );
    assert.ok(summary.ingestDelayMs.p50 > 0, 'a chunk reaches the origin after its first frame was captured');
  }

  it('ends the run with a clear message when the broadcaster is killed mid-push, and keeps what was recorded', {
    timeout: RUN_TIMEOUT_MS,
  }, async () => {
    const out = join(dir, 'killed');
    const rec = join(dir, 'killed-rec');
    // In segment production: real video in the other regime too (whole chunks, each bound charging
    // the chunk's real bytes, not the nominal bitrate × duration).
    const shipped = parse(readFileSync(join(ROOT, 'scenarios', 'video-rtmp.yaml'), 'utf8'));
    const scenario = join(dir, 'video-rtmp-segment.yaml');
    writeFileSync(
      scenario,
      stringify({ ...shipped, name: 'video-rtmp-segment', stream: { ...shipped.stream, production: 'segment' } }),
    );
    const run = livepath(['run', scenario, '--mode', 'cdn', '--out', out, '--record', rec, '--quiet']);
    const [, url] = await run.waitFor(/push to (rtmp:\S+)/);
    await run.waitFor(/origin attached to the ingest/);
    const broadcaster = push(url!, PUSH_SECONDS);
    // Kill it once the origin has produced a few chunks (its recording index grows as they come).
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        const index = join(rec, 'origin.index.csv');
        if (existsSync(index) && readFileSync(index, 'utf8').split('\n').length > 4) {
          clearInterval(poll);
          resolve();
        }
      }, 100);
    });
    broadcaster.kill('SIGKILL');
    assert.equal(await exitOf(run.child), 1, run.stderr.join('\n'));
    assert.ok(
      run.stderr.some((l) =>
        /the broadcast ended after [\d.]+ s of the scenario's 10 s \(the broadcaster stopped or was killed\)/.test(l),
      ),
      run.stderr.join('\n'),
    );
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    assert.match(summary.ingest.endedEarly, /ended after/);
    assertNoChunkBelowBound(out);
    const bounds = new Set(readChunks(out).map((r) => r.boundMs));
    assert.ok(bounds.size > 2, 'each chunk has its own bound: real chunks differ in size');
    for (const v of ['v1', 'v2']) {
      const file = join(rec, `${v}.ts`);
      assert.deepEqual(streamTypes(file), ['audio', 'video'], `${v}'s partial recording plays`);
      const d = durationS(file);
      assert.ok(d > 0 && d < PUSH_SECONDS - CHUNK_S, `${v} kept ${d} s of a broadcast cut short`);
    }
  });
});
