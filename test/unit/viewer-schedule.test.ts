// When a viewer is present on the stream's clock: one pass for a lab run, repeated for a deployment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { presenceAt } from '../../services/peer/schedule.js';

test('a lab run: join, then leave, once', () => {
  const v = { joinAtS: 2, leaveAtS: 5 };
  assert.deepEqual(presenceAt(v, 0), { present: false, nextS: 2 });
  assert.deepEqual(presenceAt(v, 2), { present: true, nextS: 5 });
  assert.deepEqual(presenceAt(v, 7), { present: false, nextS: undefined });
  assert.deepEqual(presenceAt({ joinAtS: 1 }, 100), { present: true, nextS: undefined });
});

test('a deployment: a viewer that left rejoins at its join time of the next period', () => {
  const v = { joinAtS: 2, leaveAtS: 5 };
  assert.deepEqual(presenceAt(v, 6, 10), { present: false, nextS: 12 });
  assert.deepEqual(presenceAt(v, 12, 10), { present: true, nextS: 15 });
  assert.deepEqual(presenceAt(v, 31, 10), { present: false, nextS: 32 });
  // A pod (re)started at stream time 23 joins at once the viewers present then, and only those.
  assert.deepEqual(presenceAt(v, 23, 10), { present: true, nextS: 25 });
  assert.deepEqual(presenceAt({ joinAtS: 4 }, 23, 10), { present: true, nextS: undefined });
  assert.deepEqual(presenceAt({ joinAtS: 4 }, 3, 10), { present: false, nextS: 4 });
});
