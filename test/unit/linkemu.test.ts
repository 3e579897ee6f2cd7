// The user-space link emulator on a manual clock and mocked timers: when a message is delivered,
// what counts as emulation error, and what is only timer lateness.
import { afterEach, beforeEach, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { LinkEmulator } from '../../services/linkemu/emulator.js';
import { HANDOVER_LEAD_US } from '../../services/linkemu/constants.js';
import { fakePlan, ManualClock } from '../helpers/fake-plan.js';

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'setImmediate'] }));
afterEach(() => mock.timers.reset());

function setup(mechanism?: 'linkemu' | 'kernel' | 'delay-only') {
  const clock = new ManualClock();
  const link = new LinkEmulator({ plan: fakePlan({ latencyMs: 5 }), mechanism }, { clock });
  /** moves the clock and the timers together */
  const advance = (ms: number) => {
    clock.us += ms * 1000;
    mock.timers.tick(ms);
  };
  return { clock, link, advance };
}

test('bytes that arrive before the model says are delivered at the model arrival, with no error', () => {
  const { clock, link, advance } = setup();
  const t0 = clock.us;
  const got: number[] = [];
  link.receive('v1', 'edge', t0, 1000, (arrivalUs) => got.push(arrivalUs));
  // edge 10 Gbit/s, v1 100 Mbit/s: 5 ms + 80 µs of downlink serialization (less the first bit's head start)
  assert.deepEqual(got, [], 'nothing is delivered before its time');
  advance(4);
  assert.deepEqual(got, []);
  advance(2);
  assert.equal(got.length, 1);
  assert.ok(got[0]! > t0 + 5000 && got[0]! < t0 + 5100, `arrival ${got[0]! - t0} µs after sending`);
  assert.equal(link.errorMs.summary().max ?? 0, 0);
});

test('bytes that reach the receiver after the model arrival are delivered at once, late by the error', () => {
  const { clock, link, advance } = setup();
  const sentAtUs = clock.us - 20_000; // the transport took 20 ms; the model says 5 ms
  const got: number[] = [];
  const { intendedUs, arrivalUs } = link.arrive('v1', 'edge', sentAtUs, 1000);
  link.at(arrivalUs, () => got.push(arrivalUs));
  assert.equal(arrivalUs, clock.us, 'delivered when the bytes are here');
  assert.ok(Math.abs((link.errorMs.summary().max ?? 0) - (clock.us - intendedUs) / 1000) < 0.01);
  assert.ok((link.errorMs.summary().max ?? 0) > 14.8 && (link.errorMs.summary().max ?? 0) < 15.1);
  advance(0);
  assert.deepEqual(got, [clock.us]);
});

test('a late timer delays the callback, not the arrival it records: that is lateness, not error', () => {
  const { clock, link } = setup();
  const got: Array<[number, number]> = [];
  link.receive('v1', 'edge', clock.us, 1000, (arrivalUs) => got.push([arrivalUs, clock.us]));
  // the process was busy for 30 ms: the timer fires late
  clock.us += 30_000;
  mock.timers.tick(30);
  assert.equal(got.length, 1);
  const [arrivalUs, ranAtUs] = got[0]!;
  assert.ok(ranAtUs - arrivalUs > 24_000, 'the callback ran late');
  assert.equal(link.errorMs.summary().max ?? 0, 0, 'the arrival itself was on time');
  assert.ok((link.latenessMs.summary().max ?? 0) > 24, `lateness ${link.latenessMs.summary().max ?? 0} ms`);
});

test('a burst due at once is released at the instant the timer fires, whatever each delivery costs', () => {
  const { clock, link, advance } = setup();
  const ran: number[] = [];
  for (let i = 0; i < 5; i++)
    link.receive('v1', 'edge', clock.us, 100, () => {
      ran.push(clock.us);
      clock.us += 2_000; // each delivery's work takes 2 ms
    });
  advance(6);
  assert.equal(ran.length, 5);
  // every message was handed over by the same pass: the last one is not counted 8 ms late
  assert.ok((link.latenessMs.summary().max ?? 0) < 1.1, `lateness ${link.latenessMs.summary().max ?? 0} ms`);
});

test('copies are handed to the transport a lead before they are due at the receiver; kernel shaping sends at once', () => {
  const { clock, link } = setup();
  const departUs = clock.us + 100_000;
  assert.equal(link.handOverUs('edge', 'v1', departUs), departUs + 5_000 - HANDOVER_LEAD_US);
  const kernel = setup('kernel');
  assert.equal(kernel.link.handOverUs('edge', 'v1', departUs), kernel.clock.us);
});

test('a late probe counts in the probe error, not in the error of chunk hops', () => {
  const { clock, link } = setup();
  link.arrive('v1', 'v2', clock.us - 20_000, 64, { kind: 'probe' });
  assert.equal(link.errorMs.summary().count, 0);
  assert.ok((link.probeErrorMs.summary().max ?? 0) > 14);
  link.arrive('v1', 'edge', clock.us - 20_000, 1000);
  assert.equal(link.errorMs.summary().count, 1);
  assert.equal(link.probeErrorMs.summary().count, 1);
});

test('a receiver outside the scenario (a probe, the tracker reading the clock) has no latency and no error', () => {
  const { clock, link } = setup();
  // A relay with many children hands copies over by their latency: an unknown one made it throw.
  assert.equal(link.latencyUs('edge', 'probe-1234'), 0);
  assert.equal(link.handOverUs('edge', 'tracker', clock.us + 1000), clock.us + 1000 - HANDOVER_LEAD_US);
});

test('delay-only: held until the real arrival + the latency, however long the kernel took (not sentAt + latency)', () => {
  const { clock, link, advance } = setup('delay-only');
  // stamped 12 ms ago: htb serialized and queued it for 12 ms before it reached this process
  const sentAtUs = clock.us - 12_000;
  const receivedUs = clock.us;
  const got: number[] = [];
  link.receive('v1', 'edge', sentAtUs, 30_000, (arrivalUs) => got.push(arrivalUs));
  advance(4);
  assert.deepEqual(got, [], 'the old rule (sentAt + 5 ms) would have released it already');
  advance(1);
  assert.deepEqual(got, [receivedUs + 5000]);
  assert.equal(link.errorMs.summary().max ?? 0, 0, 'released on time: no error');
  assert.equal(link.sendsOnArrival, true);
});

test("delay-only: a release later than real arrival + latency is the hop's emulation error", () => {
  const { clock, link } = setup('delay-only');
  const got: number[] = [];
  link.receive('v1', 'edge', clock.us, 1000, (arrivalUs) => got.push(arrivalUs));
  // the process was busy: the release comes 9 ms after the 5 ms target
  clock.us += 14_000;
  mock.timers.tick(14);
  assert.equal(got.length, 1);
  const error = link.errorMs.summary().max ?? 0;
  assert.ok(error > 8.5 && error < 9.5, `error ${error} ms`);
});
