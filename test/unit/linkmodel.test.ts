import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DownlinkQueue, UplinkQueue, serializationUs } from '../../services/core/linkmodel.js';

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
  const a = down.arrive(0, 1000, fast, 0);
  const b = down.arrive(0, 1000, fast, 0);
  assert.equal(a, 10_000);
  assert.equal(b, 20_000);
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
