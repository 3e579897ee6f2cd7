import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DownlinkQueue,
  LinkCalendar,
  SequentialUplink,
  UplinkQueue,
  serializationUs,
} from '../../services/core/linkmodel.js';

test('serialization time is bytes × 8 / rate', () => {
  assert.equal(serializationUs(125_000, 1_000_000), 1_000_000);
  assert.equal(serializationUs(16_384, 10_000_000), 13_107.2);
});

test('an uplink serializes messages one after another (siblings queue behind each other)', () => {
  const up = new UplinkQueue(8_000_000); // 1 byte per µs
  assert.equal(up.depart(0, 1000), 1000);
  assert.equal(up.depart(0, 1000), 2000, 'second child waits for the first');
  assert.equal(up.depart(500, 1000), 3000);
  assert.equal(up.backlogUs(1000), 2000);
  assert.equal(up.depart(10_000, 1000), 11_000, 'an idle link starts at once');
});

test('a downlink completes a message no earlier than its last bit arrives', () => {
  const down = new DownlinkQueue(8_000_000);
  // sender as fast as receiver: arrival = sent + latency
  assert.equal(down.arrive(1000, 1000, 8_000_000, 5000), 6000);
});

test('a slower downlink is the bottleneck: a burst drains at its rate', () => {
  const down = new DownlinkQueue(800_000); // 10 µs per byte
  const fast = 8_000_000_000;
  const a = down.arrive(1000, 1000, fast, 0);
  const b = down.arrive(1000, 1000, fast, 0);
  // the first bit left the 8 Gbit/s uplink 1 µs before the last: 999 + 10 000
  assert.equal(a, 10_999);
  assert.equal(b - a, 10_000);
});

test('a chunk cut into fragments crosses uplink and downlink at the slower rate (cut-through)', () => {
  const up = new UplinkQueue(8_000_000);
  const down = new DownlinkQueue(4_000_000);
  let last = 0;
  for (let i = 0; i < 10; i++) {
    const sent = up.depart(0, 1000);
    last = down.arrive(sent, 1000, 8_000_000, 20_000);
  }
  // Bits pipeline through both links: 10 000 bytes at the 4 Mbit/s bottleneck = 20 ms, plus the
  // 20 ms latency — no extra store-and-forward of a fragment on the faster uplink.
  assert.equal(last, 20_000 + 20_000);
});

test('a sequential uplink serves a whole chunk to the first child before the second', () => {
  const up = new SequentialUplink(8_000_000); // 1 byte per µs
  const total = 4000;
  const a: number[] = [];
  const b: number[] = [];
  for (let off = 0; off < total; off += 1000) {
    a.push(up.departFragment(0, 7, 'first', off, 1000, total));
    b.push(up.departFragment(0, 7, 'second', off, 1000, total));
  }
  assert.deepEqual(a, [1000, 2000, 3000, 4000], 'first child at full rate');
  assert.deepEqual(b, [5000, 6000, 7000, 8000], 'second child after the first');
});

test('a sequential uplink never books two transmissions at once, and fills gaps', () => {
  const up = new SequentialUplink(8_000_000);
  // fragments arrive slowly (every 2000 µs): the first child's sends leave gaps…
  const ends: Array<[number, number]> = [];
  for (let k = 0; k < 4; k++) {
    const now = k * 2000;
    const e1 = up.departFragment(now, 1, 'x', k * 1000, 1000, 4000);
    const e2 = up.departFragment(now, 1, 'y', k * 1000, 1000, 4000);
    ends.push([e1 - 1000, e1], [e2 - 1000, e2]);
  }
  ends.sort((p, q) => p[0] - q[0]);
  for (let i = 1; i < ends.length; i++)
    assert.ok(ends[i]![0] >= ends[i - 1]![1], `overlap at ${i}: ${JSON.stringify(ends)}`);
  // …which the second child's slot (due once a full-rate chunk would have gone) then shares, so
  // the first child's last fragments queue behind bookings made for the second.
  assert.equal(ends[ends.length - 1]![1], 6000 + 4000, JSON.stringify(ends));
});

test('a downlink shares its time in time order, whatever order messages are booked in', () => {
  const down = new DownlinkQueue(8_000_000); // 1 byte per µs
  const fast = 8_000_000_000;
  // A relay forwards ahead of time: a fragment due at 50 ms is booked first, then a probe reply
  // due at 10 ms. The reply must not queue behind the later fragment (a FIFO would make it 50 ms).
  const fragment = down.arrive(50_000, 1000, fast, 0);
  const reply = down.arrive(10_000, 64, fast, 0);
  assert.equal(fragment, 50_000 + 1000 - 1000 / 1000, 'the fragment is clocked in from its first bit');
  assert.ok(reply <= 10_064 + 1, `reply completes at ${reply}`);
});

test('a link calendar never double-books and starts nothing before its earliest time', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 50_000 }), fc.integer({ min: 1, max: 3_000 })), {
        minLength: 1,
        maxLength: 60,
      }),
      (bookings) => {
        const cal = new LinkCalendar();
        const got: Array<[number, number]> = [];
        for (const [earliest, dur] of bookings) {
          const end = cal.book(earliest, dur);
          assert.ok(end - dur >= earliest, `booked at ${end - dur} before ${earliest}`);
          got.push([end - dur, end]);
        }
        got.sort((p, q) => p[0] - q[0]);
        for (let i = 1; i < got.length; i++) assert.ok(got[i]![0] >= got[i - 1]![1], `overlap: ${JSON.stringify(got)}`);
      },
    ),
  );
});

test('a link calendar fills a gap that fits and skips one that does not', () => {
  const cal = new LinkCalendar();
  cal.book(0, 100); // [0, 100)
  cal.book(300, 100); // [300, 400)
  assert.equal(cal.book(0, 150), 250, 'fits in [100, 300)');
  assert.equal(cal.book(0, 100), 500, 'the gap left is [250, 300): too short, so after 400');
  assert.equal(cal.lastEnd(), 500);
});
