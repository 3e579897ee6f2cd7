// Frame-paced production and per-fragment fan-out, on a virtual clock: when the broadcaster
// releases each part of a chunk, what the origin forwards, and in which order a parent's uplink
// serves a fragment to its children.
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Chunk } from '../../services/gen/livepath/v1/chunk.js';
import { ChunkAssembler } from '../../services/core/chunks.js';
import { SequentialUplink, serializationUs } from '../../services/core/linkmodel.js';
import { chunkReleases } from '../../services/core/production.js';
import { LinkEmulator } from '../../services/linkemu/emulator.js';
import {
  Origin,
  SyntheticSource,
  type SourceChunk,
  type SourcePart,
  type Timers,
} from '../../services/origin/origin.js';
import { wireBytes } from '../../services/core/chunks.js';
import { syntheticPayload } from '../../services/origin/synthetic.js';
import { RelayNode, type ChildSink } from '../../services/relay/node.js';
import { fakePlan, ManualClock } from '../helpers/fake-plan.js';
import { FragmentSigner, FragmentVerifier } from '../../services/relay/integrity.js';

const signer = new FragmentSigner();

/** setTimeout on a virtual clock: `runUntil` fires what is due in time order, moving the clock. */
class VirtualTimers implements Timers {
  private pending: Array<{ atUs: number; order: number; fn: () => void }> = [];
  private order = 0;
  constructor(private readonly clock: ManualClock) {}
  setTimeout(fn: () => void, ms: number): unknown {
    const entry = { atUs: this.clock.us + ms * 1000, order: this.order++, fn };
    this.pending.push(entry);
    return entry;
  }
  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((e) => e !== handle);
  }
  async runUntil(us: number, between?: () => Promise<void>): Promise<void> {
    for (;;) {
      this.pending.sort((a, b) => a.atUs - b.atUs || a.order - b.order);
      const next = this.pending[0];
      if (!next || next.atUs > us) break;
      this.pending.shift();
      this.clock.us = Math.max(this.clock.us, next.atUs);
      next.fn();
      await between?.();
    }
    this.clock.us = Math.max(this.clock.us, us);
  }
}

class MemorySink implements ChildSink {
  got: Chunk[] = [];
  write(f: Chunk) {
    this.got.push(f);
    return true;
  }
  onDrain() {}
  fail() {}
  end() {}
}

test('a chunk is released in units that tile it, paced evenly over its duration, the last at its end', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 500_000 }),
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 1_000, max: 2_000_000 }),
      fc.nat(1000),
      (chunkBytes, releasesPerChunk, chunkDurationUs, seq) => {
        const startUs = 1_000_000;
        const rs = chunkReleases({ chunkBytes, releasesPerChunk, chunkDurationUs }, seq, startUs);
        assert.equal(rs.length, releasesPerChunk);
        let offset = 0;
        rs.forEach((r, j) => {
          assert.equal(r.offset, offset, 'no gap, no overlap');
          offset += r.bytes;
          assert.ok(Math.abs(r.bytes - chunkBytes / releasesPerChunk) < 1, 'even sizes');
          assert.equal(r.last, j === releasesPerChunk - 1);
          assert.ok(r.atUs > startUs + seq * chunkDurationUs && r.atUs <= startUs + (seq + 1) * chunkDurationUs);
        });
        assert.equal(offset, chunkBytes);
        assert.equal(rs.at(-1)!.atUs, startUs + (seq + 1) * chunkDurationUs, 'the last byte is made at the chunk end');
      },
    ),
  );
});

describe('the synthetic broadcaster on a virtual clock', () => {
  const record = (production: 'progressive' | 'segment') => {
    const clock = new ManualClock(0);
    const timers = new VirtualTimers(clock);
    const plan = fakePlan({ production });
    const source = new SyntheticSource(plan, clock, timers);
    const parts: SourcePart[] = [];
    const chunks: SourceChunk[] = [];
    let ended = false;
    source.start(0, { part: (p) => parts.push(p), emit: (c) => chunks.push(c), end: () => (ended = true) });
    return { plan, timers, parts, chunks, isEnded: () => ended };
  };

  test('progressive: each frame leaves when it is made, 8 per 250 ms chunk, the chunk when its last frame is', async () => {
    const { plan, timers, parts, chunks } = record('progressive');
    await timers.runUntil(500_000);
    assert.equal(chunks.length, 2);
    assert.equal(parts.length, 2 * 7, 'seven frames before each chunk end; the eighth completes the chunk');
    const frameUs = 250_000 / 8;
    parts.slice(0, 7).forEach((p, j) => {
      // setTimeout has ms resolution: within half a ms of the schedule, never drifting
      assert.ok(Math.abs(p.producedAtUs - (j + 1) * frameUs) <= 500, `frame ${j} at ${p.producedAtUs} µs`);
      assert.equal(p.chunkBytes, plan.stream.chunkBytes, 'a synthetic chunk knows its size from the start');
    });
    assert.equal(chunks[0]!.producedAtUs, 250_000);
    assert.equal(chunks[1]!.producedAtUs, 500_000);
    const partBytes = parts.slice(0, 7).reduce((a, p) => a + p.virtualBytes!, 0);
    assert.equal(plan.stream.chunkBytes - partBytes, 7_813, 'what is left for the chunk end is one frame');
  });

  test('segment: nothing before the chunk end, then the whole chunk', async () => {
    const { timers, parts, chunks, isEnded } = record('segment');
    await timers.runUntil(249_000);
    assert.equal(chunks.length, 0);
    await timers.runUntil(2_000_000);
    assert.equal(parts.length, 0);
    assert.equal(chunks.length, 8, 'a 2 s broadcast of 250 ms chunks');
    assert.deepEqual(
      chunks.map((c) => c.producedAtUs),
      [1, 2, 3, 4, 5, 6, 7, 8].map((k) => k * 250_000),
    );
    assert.equal(isEnded(), true);
  });
});

describe('the origin forwards frame-paced parts at once', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setImmediate'] }));
  afterEach(() => mock.timers.reset());

  const run = async (production: 'progressive' | 'segment', payload?: 'virtual' | 'real') => {
    const clock = new ManualClock(0);
    const timers = new VirtualTimers(clock);
    const plan = fakePlan({ production });
    if (payload) plan.stream = { ...plan.stream, payload };
    const link = new LinkEmulator({ plan }, { clock });
    const origin = new Origin({ plan }, { clock, link, signer, source: new SyntheticSource(plan, clock, timers) });
    const child = new MemorySink();
    origin.node.subscribe({ childId: 'edge', fromSeq: 0 }, child);
    origin.start(0);
    await timers.runUntil(250_000, async () => mock.timers.tick(0));
    origin.stop();
    link.stop();
    return { plan, child };
  };

  test('progressive: fragments of chunk 0 reach the child over the chunk, each stamped when it was made', async () => {
    const { child } = await run('progressive');
    const chunk0 = child.got.filter((f) => f.seq === 0);
    assert.equal(chunk0.length, 8);
    assert.ok(chunk0[0]!.producedAtUs <= 32_000, 'the first frame left after ~31 ms, not at the chunk end');
    assert.ok(chunk0[0]!.sentAtUs < 40_000);
    assert.equal(chunk0.at(-1)!.producedAtUs, 250_000);
    assert.ok(chunk0.every((f) => f.totalBytes === 62_500));
    // Every fragment is signed on its own, so a relay verifies it before it forwards it.
    const verifier = new FragmentVerifier(signer.publicKey, { nowUs: () => 250_000 });
    assert.deepEqual(
      chunk0.map((f) => verifier.check(f)),
      chunk0.map(() => undefined),
    );
    // The chunk assembled from them: produced when its last byte was, its last release one frame.
    const a = new ChunkAssembler();
    for (const f of chunk0) a.add({ ...f, length: f.virtualLength });
    assert.deepEqual(a.lastCompleted, { seq: 0, totalBytes: 62_500, producedAtUs: 250_000, lastReleaseBytes: 7_813 });
  });

  for (const production of ['progressive', 'segment'] as const) {
    test(`${production}, payload real: the fragments carry the chunk's deterministic bytes, in order`, async () => {
      const { plan, child } = await run(production, 'real');
      const chunk0 = child.got.filter((f) => f.seq === 0);
      assert.ok(chunk0.length > 1);
      assert.ok(chunk0.every((f) => f.virtualLength === 0 && f.payload.length > 0));
      const bytes = Buffer.alloc(62_500);
      for (const f of chunk0) bytes.set(f.payload, f.offset);
      assert.equal(
        chunk0.reduce((n, f) => n + f.payload.length, 0),
        62_500,
      );
      assert.ok(bytes.equals(syntheticPayload(plan.stream.streamId, 0, 62_500)));
      const a = new ChunkAssembler();
      for (const f of chunk0) a.add({ ...f, length: f.payload.length });
      assert.equal(a.lastCompleted?.totalBytes, 62_500);
    });
  }

  test('payload virtual (the default): no bytes travel', async () => {
    const { child } = await run('progressive');
    assert.ok(child.got.every((f) => f.payload.length === 0 && f.virtualLength > 0));
  });

  test('segment: the whole chunk at its end, its last release the whole chunk', async () => {
    const { child } = await run('segment');
    const chunk0 = child.got.filter((f) => f.seq === 0);
    assert.equal(chunk0.length, 4, '62 500 B in 16 KiB fragments');
    assert.ok(chunk0.every((f) => f.producedAtUs === 250_000));
    const a = new ChunkAssembler();
    for (const f of chunk0) a.add({ ...f, length: f.virtualLength });
    assert.equal(a.lastCompleted?.lastReleaseBytes, 62_500);
  });
});

test('a chunk whose size is learnt at its end completes when the fragment that tells it arrives', () => {
  const a = new ChunkAssembler();
  assert.equal(a.add({ seq: 3, offset: 0, length: 1000, totalBytes: 0, producedAtUs: 10 }), 'new');
  assert.equal(a.add({ seq: 3, offset: 1000, length: 500, totalBytes: 0, producedAtUs: 20 }), 'new');
  // the end: a zero-length fragment made at 30 that says the chunk has 1 500 bytes
  assert.equal(a.add({ seq: 3, offset: 1500, length: 0, totalBytes: 1500, producedAtUs: 30 }), 'complete');
  assert.deepEqual(a.lastCompleted, { seq: 3, totalBytes: 1500, producedAtUs: 30, lastReleaseBytes: 0 });
  assert.equal(a.totalBytes(3), 1500);
});

describe('per-fragment fan-out', () => {
  const frag = (seq: number, offset: number, producedAtUs: number, length = 7_812): Chunk => ({
    streamId: 'live',
    seq,
    producedAtUs,
    durationUs: 250_000,
    payload: Buffer.alloc(0),
    virtualLength: length,
    keyframe: false,
    signature: Buffer.alloc(0),
    hops: 1,
    offset,
    totalBytes: 62_500,
    sentAtUs: 0,
    senderId: 'edge',
    viaPeer: false,
  });

  const relay = (production: 'progressive' | 'segment') => {
    const clock = new ManualClock(0);
    const link = new LinkEmulator({ plan: fakePlan({ production, viewers: ['v1', 'v2', 'v3', 'v4'] }) }, { clock });
    const node = new RelayNode({ id: 'v1', role: 'peer' }, { link });
    const sinks = new Map(['v2', 'v3', 'v4'].map((id) => [id, new MemorySink()]));
    // priority = remaining subtree delay: v3 first, then v4, then v2
    node.subscribe({ childId: 'v2', fromLive: true, priority: 1 }, sinks.get('v2')!);
    node.subscribe({ childId: 'v3', fromLive: true, priority: 9 }, sinks.get('v3')!);
    node.subscribe({ childId: 'v4', fromLive: true, priority: 5 }, sinks.get('v4')!);
    return { link, node, sinks };
  };
  const fragUs = serializationUs(wireBytes(7_812), 50e6);

  test('progressive: each fragment goes to every child in priority order as it arrives; child i waits i fragment-times', () => {
    const { link, node, sinks } = relay('progressive');
    const frameUs = 31_250;
    for (let j = 0; j < 8; j++) node.accept(frag(0, j * 7_812, (j + 1) * frameUs), (j + 1) * frameUs);
    for (const [i, id] of ['v3', 'v4', 'v2'].entries()) {
      const sent = sinks.get(id)!.got.map((f) => f.sentAtUs);
      assert.equal(sent.length, 8);
      sent.forEach((at, j) => {
        const expected = (j + 1) * frameUs + (i + 1) * fragUs;
        assert.ok(Math.abs(at - expected) <= 1, `${id} (position ${i}) frame ${j}: ${at} µs, expected ${expected}`);
      });
    }
    // the position cost, as the emulator measures it: i fragment-times for position i
    for (const position of [0, 1, 2]) {
      const wait = link.positionWaitMs.get(position)!.summary();
      assert.equal(wait.count, 8);
      assert.ok(Math.abs(wait.p50! - (position * fragUs) / 1000) < 0.01, `position ${position}: ${wait.p50} ms`);
    }
  });

  test('segment: the whole chunk goes to each child in turn (the second child waits a chunk-time)', () => {
    const { node, sinks } = relay('segment');
    // as the origin cuts a whole chunk: 16 KiB fragments
    for (let offset = 0; offset < 62_500; offset += 16_384)
      node.accept(frag(0, offset, 250_000, Math.min(16_384, 62_500 - offset)), 250_000);
    const lastOf = (id: string) => sinks.get(id)!.got.at(-1)!.sentAtUs;
    const firstOf = (id: string) => sinks.get(id)!.got[0]!.sentAtUs;
    const chunkUs = serializationUs(62_500 + 4 * 64, 50e6);
    assert.ok(lastOf('v3') <= firstOf('v4') - serializationUs(16_448, 50e6) + 1, 'v3 has the chunk before v4 starts');
    assert.ok(Math.abs(lastOf('v3') - (250_000 + chunkUs)) <= 1, 'back to back: no gap, no overlap');
    assert.ok(Math.abs(lastOf('v4') - (250_000 + 2 * chunkUs)) <= 1);
    assert.ok(Math.abs(lastOf('v2') - (250_000 + 3 * chunkUs)) <= 1);
  });

  test('the uplink calendar is never double-booked, whatever order copies and probes are booked in', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ atUs: fc.nat(100_000), bytes: fc.integer({ min: 1, max: 20_000 }) }), {
          minLength: 1,
          maxLength: 60,
        }),
        (msgs) => {
          const up = new SequentialUplink(50e6, 'fragment');
          const booked = msgs.map((m, i) => {
            const end = i % 3 === 0 ? up.depart(m.atUs, m.bytes) : up.departFragment(m.atUs, 0, `c${i}`, 0, m.bytes, 0);
            const dur = serializationUs(m.bytes, 50e6);
            assert.ok(end - dur >= m.atUs - 1e-6, 'never leaves before it is handed over');
            return [end - dur, end] as const;
          });
          booked.sort((a, b) => a[0] - b[0]);
          for (let i = 1; i < booked.length; i++) assert.ok(booked[i]![0] >= booked[i - 1]![1] - 1e-6, 'no overlap');
        },
      ),
    );
  });
});

test('a live joiner starts at the newest chunk held whole, not the one still being made', () => {
  const clock = new ManualClock(0);
  const link = new LinkEmulator({ plan: fakePlan({ production: 'progressive' }) }, { clock });
  const node = new RelayNode({ id: 'edge', role: 'edge' }, { link });
  const part = (seq: number, offset: number, length: number): Chunk => ({
    streamId: 'live',
    seq,
    producedAtUs: 0,
    durationUs: 250_000,
    payload: Buffer.alloc(0),
    virtualLength: length,
    keyframe: true,
    signature: Buffer.alloc(0),
    hops: 0,
    offset,
    totalBytes: 1000,
    sentAtUs: 0,
    senderId: 'origin',
    viaPeer: false,
  });
  node.accept(part(0, 0, 1000), 0);
  node.accept(part(1, 0, 400), 0); // chunk 1 is still being made
  const joiner = new MemorySink();
  node.subscribe({ childId: 'v1', fromLive: true }, joiner);
  assert.deepEqual(
    joiner.got.map((f) => [f.seq, f.offset]),
    [
      [0, 0],
      [1, 0],
    ],
    'the whole chunk 0 at once, then chunk 1 as it comes',
  );
});
