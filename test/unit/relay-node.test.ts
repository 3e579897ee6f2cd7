import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Chunk } from '../../services/gen/livepath/v1/chunk.js';
import { LinkEmulator } from '../../services/linkemu/emulator.js';
import { HANDOVER_LEAD_US } from '../../services/linkemu/constants.js';
import { RelayNode, type ChildSink } from '../../services/relay/node.js';
import type { RelayError } from '../../services/relay/errors.js';
import { onlyNode } from '../../services/relay/server.js';
import { fakePlan, ManualClock } from '../helpers/fake-plan.js';

function fragment(seq: number, offset: number, len: number, total: number): Chunk {
  return {
    streamId: 'live',
    seq,
    producedAtUs: 0,
    durationUs: 250_000,
    payload: Buffer.alloc(len),
    keyframe: false,
    signature: Buffer.alloc(0),
    hops: 0,
    offset,
    totalBytes: total,
    sentAtUs: 0,
    senderId: 'b',
    viaPeer: false,
    virtualLength: 0,
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
  assert.deepEqual(
    late.got.map((f) => f.seq),
    [3, 4],
  );
  node.accept(fragment(5, 0, 500, 500), 0);
  assert.deepEqual(
    late.got.map((f) => f.seq),
    [3, 4, 5],
  );
});

test('a live joiner starts at the newest chunk, and a range request ends after its last seq', () => {
  const { node } = setup();
  for (let s = 0; s < 5; s++) node.accept(fragment(s, 0, 500, 500), 0);
  const live = new MemorySink();
  node.subscribe({ childId: 'v1', fromLive: true }, live);
  assert.deepEqual(
    live.got.map((f) => f.seq),
    [4],
  );
  const range = new MemorySink();
  node.subscribe({ childId: 'v2', fromSeq: 1, toSeq: 2 }, range);
  assert.deepEqual(
    range.got.map((f) => f.seq),
    [1, 2],
  );
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

// Lookahead: what a relay does when bytes reach its process, and when the model says they arrive.
describe('on a manual clock with mocked timers', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'setImmediate'] }));
  afterEach(() => mock.timers.reset());

  function timed(latencyMs = 5) {
    const clock = new ManualClock();
    const link = new LinkEmulator({ plan: fakePlan({ viewers: ['v1', 'v2', 'v3'], latencyMs }) }, { clock });
    const node = new RelayNode({ id: 'edge', role: 'edge', holdMinChildren: 0 }, { link });
    const advance = (ms: number) => {
      clock.us += ms * 1000;
      mock.timers.tick(ms);
    };
    return { clock, link, node, advance };
  }

  function from(sender: string, f: Chunk, sentAtUs: number): Chunk {
    return { ...f, senderId: sender, sentAtUs };
  }

  test('forwards a fragment as soon as it has the bytes, stamped to leave at its model arrival, and completes it only then', () => {
    const { clock, node, advance } = timed();
    const child = new MemorySink();
    node.subscribe({ childId: 'v1', fromLive: true }, child);
    const completed: number[] = [];
    node.onChunkComplete = (_f, atUs) => completed.push(atUs);
    const t0 = clock.us;
    node.arrive(from('origin', fragment(0, 0, 1000, 1000), t0));
    advance(0);
    assert.equal(child.got.length, 1, 'the child has the copy before the model lets the edge have it');
    assert.ok(
      child.got[0]!.sentAtUs >= t0 + 5000,
      `departs ${child.got[0]!.sentAtUs - t0} µs after t0, not before the 5 ms arrival`,
    );
    assert.deepEqual(completed, [], 'the edge itself does not have it yet');
    advance(6);
    assert.equal(completed.length, 1);
    assert.ok(completed[0]! >= t0 + 5000 && completed[0]! < t0 + 5100);
  });

  test('bytes that come late are an error counted once: the copy still leaves on the model schedule', () => {
    const { clock, link, node, advance } = timed();
    const child = new MemorySink();
    node.subscribe({ childId: 'v1', fromLive: true }, child);
    const t0 = clock.us;
    node.arrive(from('origin', fragment(0, 0, 1000, 1000), t0 - 30_000)); // meant to arrive 25 ms ago
    advance(0);
    assert.ok((link.errorMs.summary().max ?? 0) > 24, 'the late arrival is the error');
    assert.ok(
      child.got[0]!.sentAtUs < t0 - 24_000,
      'the copy departs when the model says, so the child is not shifted too',
    );
  });

  test('a wide relay holds copies for a far child until a lead before they are due there, then writes them in order', () => {
    const { clock, node, advance } = timed(100);
    const child = new MemorySink();
    node.subscribe({ childId: 'v1', fromSeq: 0, toSeq: 0 }, child);
    const t0 = clock.us;
    node.accept(from('origin', fragment(0, 0, 500, 1000), t0), t0);
    node.accept(from('origin', fragment(0, 500, 500, 1000), t0), t0);
    assert.equal(child.got.length, 0, 'a copy due in 100 ms is not written now');
    advance(100 - HANDOVER_LEAD_US / 1000 - 1);
    assert.equal(child.got.length, 0);
    advance(2);
    assert.deepEqual(
      child.got.map((f) => f.offset),
      [0, 500],
    );
    assert.equal(child.ended, true, 'the range ends after its held copies are written');
  });

  test("a resuming child's backlog leaves no earlier than the bytes arrive here", () => {
    const { clock, node, advance } = timed();
    const t0 = clock.us;
    node.arrive(from('origin', fragment(0, 0, 1000, 1000), t0));
    advance(0);
    const late = new MemorySink();
    node.subscribe({ childId: 'v2', fromSeq: 0 }, late);
    assert.equal(late.got.length, 1);
    assert.ok(late.got[0]!.sentAtUs >= t0 + 5000, 'not before the 5 ms arrival at this edge');
  });

  test('of two copies of a fragment, the one the model delivers first counts', () => {
    const { clock, node, advance } = timed();
    const completed: Array<[string, number]> = [];
    node.onChunkComplete = (f, atUs) => completed.push([f.senderId, atUs]);
    const t0 = clock.us;
    node.arrive(from('v1', fragment(0, 0, 1000, 1000), t0 + 40_000)); // a peer's copy, due in 45 ms
    node.arrive(from('origin', fragment(0, 0, 1000, 1000), t0)); // the edge's copy, due in 5 ms
    advance(60);
    assert.equal(completed.length, 1);
    assert.equal(completed[0]![0], 'origin');
    assert.ok(completed[0]![1] < t0 + 6000);
  });
});

test('a relay with few children hands every copy over at once, keeping its children all the slack', () => {
  const clock = new ManualClock();
  const link = new LinkEmulator({ plan: fakePlan({ viewers: ['v1'], latencyMs: 100 }) }, { clock });
  const node = new RelayNode({ id: 'edge', role: 'edge' }, { link });
  const child = new MemorySink();
  node.subscribe({ childId: 'v1', fromLive: true }, child);
  node.accept({ ...fragment(0, 0, 500, 1000), senderId: 'origin', sentAtUs: clock.us }, clock.us);
  assert.equal(child.got.length, 1);
});

test('a process hosting one node answers to its id and to a subscriber that names no publisher', () => {
  const { node } = setup('edge');
  const lookup = onlyNode(node);
  assert.equal(lookup('edge'), node);
  assert.equal(lookup(''), node);
  assert.equal(lookup('edge2'), undefined);
});
