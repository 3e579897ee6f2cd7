import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Chunk } from '../../services/gen/livepath/v1/chunk.js';
import { LinkEmulator } from '../../services/linkemu/emulator.js';
import { RelayNode, type ChildSink } from '../../services/relay/node.js';
import type { RelayError } from '../../services/relay/errors.js';
import { fakePlan, ManualClock } from '../helpers/fake-plan.js';

function fragment(seq: number, offset: number, len: number, total: number): Chunk {
  return {
    streamId: 'live', seq, producedAtUs: 0, durationUs: 250_000, payload: Buffer.alloc(len), keyframe: false,
    signature: Buffer.alloc(0), hops: 0, offset, totalBytes: total, sentAtUs: 0, senderId: 'b', viaPeer: false, virtualLength: 0,
  };
}

class MemorySink implements ChildSink {
  got: Chunk[] = [];
  failed: RelayError | undefined;
  ended = false;
  blocked = false;
  private drain: (() => void) | undefined;
  write(f: Chunk) {
    this.got.push(f);
    return !this.blocked;
  }
  onDrain(cb: () => void) {
    this.drain = cb;
  }
  unblock() {
    this.blocked = false;
    this.drain?.();
  }
  fail(e: RelayError) {
    this.failed = e;
  }
  end() {
    this.ended = true;
  }
}

function setup(role: 'origin' | 'edge' | 'peer' = 'edge', maxChildQueueFragments = 256) {
  const clock = new ManualClock();
  const link = new LinkEmulator({ plan: fakePlan({ viewers: ['v1', 'v2', 'v3'] }) }, { clock });
  const node = new RelayNode({ id: role === 'peer' ? 'v1' : 'edge', role, maxChildQueueFragments }, { link });
  return { clock, link, node };
}

test('forwards each fragment to every child as it arrives, one hop more, stamped by the shared uplink', () => {
  const { node } = setup();
  const a = new MemorySink();
  const b = new MemorySink();
  node.subscribe({ childId: 'v1', fromLive: true }, a);
  node.subscribe({ childId: 'v2', fromLive: true }, b);
  node.accept(fragment(0, 0, 1000, 2000), 0);
  assert.equal(a.got.length, 1, 'cut-through: the first fragment is forwarded before the chunk is complete');
  assert.equal(b.got.length, 1);
  assert.equal(a.got[0]!.hops, 1);
  assert.equal(a.got[0]!.senderId, 'edge');
  assert.ok(b.got[0]!.sentAtUs > a.got[0]!.sentAtUs, 'the second child queues behind the first on the uplink');
});

test('higher-priority children are served first', () => {
  const { node } = setup();
  const low = new MemorySink();
  const high = new MemorySink();
  node.subscribe({ childId: 'v1', fromLive: true, priority: 1 }, low);
  node.subscribe({ childId: 'v2', fromLive: true, priority: 9 }, high);
  node.accept(fragment(0, 0, 1000, 1000), 0);
  assert.ok(high.got[0]!.sentAtUs < low.got[0]!.sentAtUs);
});

test('a child resuming from a seq gets the stored chunks from there, then live ones', () => {
  const { node } = setup();
  for (let s = 0; s < 5; s++) node.accept(fragment(s, 0, 500, 500), 0);
  const late = new MemorySink();
  node.subscribe({ childId: 'v1', fromSeq: 3 }, late);
  assert.deepEqual(late.got.map((f) => f.seq), [3, 4]);
  node.accept(fragment(5, 0, 500, 500), 0);
  assert.deepEqual(late.got.map((f) => f.seq), [3, 4, 5]);
});

test('a live joiner starts at the newest chunk, and a range request ends after its last seq', () => {
  const { node } = setup();
  for (let s = 0; s < 5; s++) node.accept(fragment(s, 0, 500, 500), 0);
  const live = new MemorySink();
  node.subscribe({ childId: 'v1', fromLive: true }, live);
  assert.deepEqual(live.got.map((f) => f.seq), [4]);
  const range = new MemorySink();
  node.subscribe({ childId: 'v2', fromSeq: 1, toSeq: 2 }, range);
  assert.deepEqual(range.got.map((f) => f.seq), [1, 2]);
  assert.equal(range.ended, true);
});

test('a slow child is dropped without stalling its siblings', () => {
  const { node } = setup('edge', 4);
  const slow = new MemorySink();
  const fast = new MemorySink();
  slow.blocked = true;
  node.subscribe({ childId: 'v1', fromLive: true }, slow);
  node.subscribe({ childId: 'v2', fromLive: true }, fast);
  for (let s = 0; s < 10; s++) node.accept(fragment(s, 0, 500, 500), 0);
  assert.equal(fast.got.length, 10);
  assert.ok(slow.failed, 'slow child failed with an error');
  assert.match(slow.failed!.message, /resume from its next missing seq/);
  assert.equal(node.childCount, 1);
});

test('duplicates are neither stored twice nor forwarded twice; peers mark the peer path', () => {
  const { node } = setup('peer');
  const child = new MemorySink();
  node.subscribe({ childId: 'v2', fromLive: true }, child);
  let completes = 0;
  node.onChunkComplete = () => completes++;
  node.accept(fragment(0, 0, 500, 1000), 0);
  node.accept(fragment(0, 0, 500, 1000), 0);
  node.accept(fragment(0, 500, 500, 1000), 0);
  assert.equal(child.got.length, 2);
  assert.equal(completes, 1);
  assert.ok(child.got.every((f) => f.viaPeer));
});
