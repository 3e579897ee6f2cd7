import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineProgress } from '../../services/lab/progress.js';

test('line progress prints every few seconds, and the final state of each mode once', () => {
  const lines: string[] = [];
  let now = 0;
  const p = lineProgress(
    (l) => lines.push(l.trim()),
    () => now,
  );
  p.update('cdn', { produced: 1, total: 4, received: 10 });
  now = 1_000;
  p.update('cdn', { produced: 2, total: 4, received: 20 }); // too soon
  now = 6_000;
  p.update('cdn', { produced: 3, total: 4, received: 30 });
  // the last chunk: every process reports it, several times over
  for (let i = 0; i < 6; i++) p.update('cdn', { produced: 4, total: 4, received: 40 + i });
  p.update('p2p', { produced: 4, total: 4, received: 40 });
  p.update('p2p', { produced: 4, total: 4, received: 40 });
  assert.deepEqual(lines, [
    '[cdn] 1/4 chunks produced, 10 deliveries recorded',
    '[cdn] 3/4 chunks produced, 30 deliveries recorded',
    '[cdn] 4/4 chunks produced, 40 deliveries recorded',
    '[p2p] 4/4 chunks produced, 40 deliveries recorded',
  ]);
});
