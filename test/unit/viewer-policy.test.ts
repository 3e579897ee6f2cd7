// The viewer's policy on a virtual clock: fast start, probe rounds, joining, the deadline fallback,
// a lost parent, re-parenting without a gap, a late join, the join retry backoff.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  FALLBACK_LEAD_MS,
  JOIN_RETRY_MIN_MS,
  MAX_FALLBACKS_IN_FLIGHT,
  PLAYOUT_DELAY_MS,
  REPROBE_FIRST_MS,
} from '../../services/core/viewer/constants.js';
import { fallbackAtUs, ViewerPolicy, type ViewerAction, type ViewerInput } from '../../services/core/viewer/policy.js';

type T = { nodeId: string };
const CHUNK_US = 1_000_000;
const edge: T = { nodeId: 'edge-1' };
const peerA: T = { nodeId: 'peer-a' };
const peerB: T = { nodeId: 'peer-b' };

/**
 * Drives a policy in virtual time: inputs at given times, its timer fired whenever it is due
 * before the next input, every action kept with the time it was taken.
 */
class Driver {
  nowUs = 0;
  readonly log: Array<{ atUs: number; action: ViewerAction<T> }> = [];

  constructor(readonly policy: ViewerPolicy<T>) {}

  /** Advances to `atUs`, firing the policy's timer each time it falls due on the way. */
  runTo(atUs: number): void {
    for (;;) {
      const due = this.policy.nextTimeoutUs();
      if (due === undefined || due > atUs) break;
      this.nowUs = Math.max(this.nowUs, due);
      this.feed({ kind: 'timeout' });
    }
    this.nowUs = atUs;
  }

  at(atUs: number, input: ViewerInput<T>): ViewerAction<T>[] {
    this.runTo(atUs);
    return this.feed(input);
  }

  feed(input: ViewerInput<T>): ViewerAction<T>[] {
    const actions = this.policy.handle(this.nowUs, input);
    for (const action of actions) this.log.push({ atUs: this.nowUs, action });
    return actions;
  }

  of<K extends ViewerAction<T>['type']>(
    type: K,
  ): Array<{ atUs: number; action: Extract<ViewerAction<T>, { type: K }> }> {
    return this.log.filter((e) => e.action.type === type) as never;
  }

  /** Chunk `seq` (produced at its end, seq × 1 s + 1 s) completes here at `atUs`. */
  chunk(seq: number, atUs: number): void {
    this.at(atUs, { kind: 'chunk', seq, producedAtUs: producedUs(seq), durationUs: CHUNK_US });
  }
}

const producedUs = (seq: number) => (seq + 1) * CHUNK_US;

/** A viewer taken through fast start, two probe rounds and its join, assigned `parent` at `atUs`. */
function joined(
  parent: T | undefined,
  atUs = 100_000,
  init: Partial<ConstructorParameters<typeof ViewerPolicy<T>>[0]> = {},
) {
  const d = new Driver(new ViewerPolicy<T>({ viewerId: 'v1', cdnEdge: edge, reportIntervalMs: 0, ...init }));
  const first = d.at(0, { kind: 'start' });
  const ask1 = first.find((a) => a.type === 'candidates')!;
  assert.equal(ask1.type, 'candidates');
  const probe1 = d.at(1_000, { kind: 'candidates', requestId: ask1.requestId, targets: [edge, peerA] });
  assert.deepEqual(probe1, [{ type: 'probe', requestId: ask1.requestId, targets: [edge, peerA] }]);
  const after1 = d.at(20_000, {
    kind: 'probed',
    requestId: ask1.requestId,
    samples: [{ nodeId: edge.nodeId, rttMs: 20, delayMs: 0 }, undefined],
  });
  const ask2 = after1.find((a) => a.type === 'candidates')!;
  assert.ok(ask2 && ask2.type === 'candidates', 'a second round follows the first');
  assert.deepEqual(
    ask2.samples.map((s) => s.nodeId),
    ['edge-1'],
    'the second round reports the first round',
  );
  // Already-probed targets are not probed again; a round with nothing new ends at once.
  const end = d.at(21_000, { kind: 'candidates', requestId: ask2.requestId, targets: [edge] });
  assert.deepEqual(
    end.map((a) => a.type),
    ['event', 'event', 'join'],
  );
  if (parent)
    d.at(atUs, {
      kind: 'assignment',
      parent,
      fallback: edge,
      reason: 'join',
      expectedDelayMs: 50,
      priority: 1,
    });
  return d;
}

describe('viewer policy', () => {
  test('fast start: a viewer streams from its CDN edge at once, joins after two probe rounds', () => {
    const d = joined(peerA);
    const attaches = d.of('attach');
    assert.deepEqual(
      attaches.map((e) => [e.atUs, e.action.parent.nodeId, e.action.fastStart]),
      [
        [0, 'edge-1', true],
        [100_000, 'peer-a', false],
      ],
    );
    assert.equal(d.of('join').length, 1);
    assert.deepEqual(d.of('assigned')[0]!.action, { type: 'assigned', parentId: 'peer-a', expectedDelayMs: 50 });
    assert.equal(d.policy.reparents, 0);
  });

  test('no fast start without an edge: the viewer waits for its parent', () => {
    const d = new Driver(new ViewerPolicy<T>({ viewerId: 'v1' }));
    assert.deepEqual(
      d.at(0, { kind: 'start' }).map((a) => a.type),
      ['candidates'],
    );
  });

  test('deadline fallback: a chunk missing FALLBACK_LEAD_MS before its deadline is fetched from the edge, then', () => {
    const d = joined(peerA);
    // Chunks 0–2 arrive 200 ms after production; 3 and 4 never come from the parent.
    for (const seq of [0, 1, 2]) d.chunk(seq, producedUs(seq) + 200_000);
    const due3 = producedUs(3) + (PLAYOUT_DELAY_MS - FALLBACK_LEAD_MS) * 1000;
    assert.equal(d.policy.nextTimeoutUs(), due3, 'the timer is armed for chunk 3, not before');
    d.runTo(due3 - 1);
    assert.equal(d.of('fetch').length, 0, 'nothing is fetched before its time');
    d.runTo(due3);
    assert.deepEqual(
      d.of('fetch').map((e) => [e.atUs, e.action.seq, e.action.edge.nodeId]),
      [[due3, 3, 'edge-1']],
    );
    d.runTo(producedUs(5));
    assert.deepEqual(
      d.of('fetch').map((e) => e.action.seq),
      [3, 4],
    );
    assert.equal(d.policy.fallbacks, 2);
    assert.deepEqual(
      d
        .of('event')
        .filter((e) => e.action.kind === 'fallback')
        .map((e) => e.action.detail),
      ['3@edge-1', '4@edge-1'],
    );
  });

  test('deadline fallback is bounded: at most MAX_FALLBACKS_IN_FLIGHT fetches, the next when one ends', () => {
    const d = joined(peerA);
    d.chunk(0, producedUs(0) + 100_000);
    // The parent goes silent: chunks 1… are all late.
    d.runTo(producedUs(8));
    assert.equal(d.of('fetch').length, MAX_FALLBACKS_IN_FLIGHT);
    d.runTo(producedUs(12));
    assert.equal(d.of('fetch').length, MAX_FALLBACKS_IN_FLIGHT, 'blocked: nothing more until a fetch ends');
    d.at(producedUs(12) + 1, { kind: 'fetched', seq: 1 });
    assert.deepEqual(
      d.of('fetch').map((e) => e.action.seq),
      [1, 2, 3],
    );
  });

  test('parent loss: one report per burst, missing chunks come from the edge, the new parent resumes', () => {
    const d = joined(peerA);
    for (const seq of [0, 1]) d.chunk(seq, producedUs(seq) + 150_000);
    const lostAt = producedUs(1) + 300_000;
    const first = d.at(lostAt, { kind: 'parent-lost' });
    assert.deepEqual(first, [{ type: 'report', kind: 'parent-lost', rtts: [], lateChunks: 0 }]);
    assert.deepEqual(d.at(lostAt + 100_000, { kind: 'parent-lost' }), [], 'a retry burst is reported once');
    assert.equal(d.at(lostAt + 600_000, { kind: 'parent-lost' }).length, 1, 'a later loss is reported again');
    // The tracker reassigns only after chunk 2's fetch time: chunk 2 comes from the edge.
    const reassignAt = fallbackAtUs(d.policy.timeline!, 2) + 50_000;
    const actions = d.at(reassignAt, {
      kind: 'assignment',
      parent: peerB,
      reason: 'parent-lost',
      expectedDelayMs: 60,
      priority: 1,
    });
    assert.deepEqual(
      d.of('fetch').map((e) => e.action.seq),
      [2],
    );
    assert.deepEqual(
      actions.find((a) => a.type === 'attach'),
      {
        type: 'attach',
        parent: peerB,
        priority: 1,
        fastStart: false,
      },
    );
    assert.deepEqual(
      actions.find((a) => a.type === 'reparented'),
      {
        type: 'reparented',
        from: 'peer-a',
        to: 'peer-b',
        reason: 'parent-lost',
      },
    );
    assert.equal(d.policy.currentParent, peerB);
    assert.equal(d.policy.fallbacks, 1);
  });

  test('re-parent without a gap: chunks keep arriving in time across the move, nothing is fetched', () => {
    const d = joined(peerA);
    for (let seq = 0; seq < 10; seq++) {
      if (seq === 5)
        d.at(producedUs(5) - 10_000, {
          kind: 'assignment',
          parent: peerB,
          reason: 'improve',
          expectedDelayMs: 40,
          priority: 2,
        });
      d.chunk(seq, producedUs(seq) + (seq < 5 ? 180_000 : 120_000));
    }
    d.runTo(producedUs(10));
    assert.equal(d.of('fetch').length, 0);
    assert.equal(d.policy.reparents, 1);
    const moved = d.of('attach').at(-1)!.action;
    assert.equal(moved.fastStart, false, 'a re-parent resumes from the next missing chunk, not the live edge');
  });

  test('late join: deadlines count from the first chunk the viewer got, never before it', () => {
    const joinAt = 30 * CHUNK_US + 400_000;
    const d = new Driver(new ViewerPolicy<T>({ viewerId: 'late', reportIntervalMs: 0 }));
    d.at(joinAt, { kind: 'start' });
    d.at(joinAt + 50_000, {
      kind: 'assignment',
      parent: peerA,
      fallback: edge,
      reason: 'join',
      expectedDelayMs: 30,
      priority: 1,
    });
    d.chunk(30, producedUs(30) + 90_000);
    assert.equal(d.policy.timeline?.firstSeq, 30);
    d.runTo(producedUs(31) + 700_000);
    assert.deepEqual(
      d.of('fetch').map((e) => e.action.seq),
      [31],
      'only the chunk after its first one, and only once its time came',
    );
  });

  test('the broadcast end: nothing is fetched past the last seq', () => {
    const d = joined(peerA, 100_000, { lastSeq: 2 });
    d.chunk(0, producedUs(0) + 100_000);
    d.runTo(producedUs(10));
    assert.deepEqual(
      d.of('fetch').map((e) => e.action.seq),
      [1, 2],
    );
  });

  test('re-probe: after the first assignment, candidates again and a report of the new RTTs', () => {
    const d = joined(peerA);
    d.runTo(100_000 + REPROBE_FIRST_MS * 1000);
    const ask = d.of('candidates').at(-1)!;
    assert.equal(ask.atUs, 100_000 + REPROBE_FIRST_MS * 1000);
    d.at(ask.atUs + 1_000, { kind: 'candidates', requestId: ask.action.requestId, targets: [peerB] });
    d.at(ask.atUs + 30_000, {
      kind: 'probed',
      requestId: ask.action.requestId,
      samples: [{ nodeId: 'peer-b', rttMs: 12, delayMs: 80 }],
    });
    assert.deepEqual(d.of('report').at(-1)!.action, {
      type: 'report',
      kind: 'rtts',
      rtts: [{ nodeId: 'peer-b', rttMs: 12, delayMs: 80 }],
      lateChunks: 0,
    });
  });

  test('join retry: a failed join is retried with doubling backoff, and the viewer keeps its fast-start edge', () => {
    const d = joined(undefined);
    d.at(200_000, { kind: 'join-ended', why: 'tracker gone' });
    assert.equal(d.policy.nextTimeoutUs(), 200_000 + JOIN_RETRY_MIN_MS * 1000);
    d.runTo(200_000 + JOIN_RETRY_MIN_MS * 1000);
    assert.equal(d.of('attach').length, 1, 'no second fast start: it still streams from its edge');
    const ask = d.of('candidates').at(-1)!;
    const out = d.at(ask.atUs + 1, { kind: 'candidates', requestId: ask.action.requestId, targets: [] });
    assert.equal(out.at(-1)?.type, 'candidates', 'the retry runs both probe rounds again');
    d.at(ask.atUs + 2, { kind: 'join-ended', why: 'tracker gone' });
    assert.match(d.of('event').at(-1)!.action.detail, new RegExp(`again in ${2 * JOIN_RETRY_MIN_MS} ms`));
  });

  test('leave: one leave action, no timers, and nothing after it', () => {
    const d = joined(peerA);
    assert.deepEqual(d.at(200_000, { kind: 'leave', how: 'kill' }), [{ type: 'leave', how: 'kill' }]);
    assert.equal(d.policy.nextTimeoutUs(), undefined);
    assert.deepEqual(
      d.at(300_000, { kind: 'assignment', parent: peerB, reason: 'improve', expectedDelayMs: 1, priority: 1 }),
      [],
    );
    assert.deepEqual(d.at(300_001, { kind: 'leave', how: 'graceful' }), []);
  });

  test('periodic reports start with the first assignment', () => {
    const d = joined(peerA, 100_000, { reportIntervalMs: 2_000 });
    d.runTo(100_000 + 4_000_000);
    assert.deepEqual(
      d.of('report').map((e) => [e.atUs, e.action.kind]),
      [
        [2_100_000, 'periodic'],
        [4_100_000, 'periodic'],
      ],
    );
  });
});
